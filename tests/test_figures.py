"""humal_nb.figures and figure_style: publication figures of a grid (the committed table3 record)
and of a run pair written by hand; vector output, fonts embedded, one colour per strategy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fake_runs import write_pair, write_run
from PIL import Image

from humal_nb import figure_style, figures
from humal_nb.cli import main
from humal_nb.errors import DataNotFoundError, ParameterError

REPO = Path(__file__).resolve().parents[1]
TABLE3 = REPO / "outputs" / "replication" / "table3"


def names(paths: list[Path]) -> set[str]:
    return {p.name for p in paths}


def assert_vector(path: Path) -> None:
    """A PDF with TrueType fonts and no raster image; an SVG without <image>."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        assert b"/Subtype /Image" not in data, f"{path.name} embeds a raster image"
        assert b"/FontFile2" in data, f"{path.name} does not embed a TrueType font (pdf.fonttype 42)"
        assert b"/Type3" not in data
    else:
        assert b"<image" not in data, f"{path.name} embeds a raster image"


def assert_no_machine_path(paths: list[Path], *roots: Path) -> None:
    for path in paths:
        data = path.read_bytes()
        for root in (*roots, REPO):
            assert str(root).encode() not in data, f"{path.name} holds the path {root}"


@pytest.mark.slow
def test_grid_figures_of_the_committed_table3_record(tmp_path: Path) -> None:
    out = tmp_path / "figures"
    written = figures.write_figures(TABLE3, out=out)
    expected = {f"{stem}.{fmt}" for stem in ("fig3_auc_vs_ratio", "fig5_loss_n250_r0.01", "fig5_loss_n250_r0.05",
                                             "fig5_loss_n250_r0.2", "fig5_loss_n250_r0.5", "fig5_loss_n500_r0.01")
                for fmt in ("pdf", "svg", "png")}
    assert names(written.files) == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in written.files)
    assert any("Fig. 4 skipped" in note and "three or more training sizes" in note for note in written.notes)
    for path in written.files:
        if path.suffix in (".pdf", ".svg"):
            assert_vector(path)
    with Image.open(out / "fig3_auc_vs_ratio.png") as image:
        dpi = image.info["dpi"]
        assert round(dpi[0]) == 300
        assert image.width / dpi[0] <= figure_style.TWO_COLUMN + 0.05  # a two-column figure
    assert_no_machine_path(written.files, tmp_path)


def test_fig4_is_drawn_where_a_grid_has_three_sizes(tmp_path: Path) -> None:
    rows = [{"cell": f"{s}_n{n}_r0.05_b{b}", "strategy": s, "data_size": n, "imbalance_ratio": 0.05, "bootstrap": b,
             "status": "finished", "auc": 0.6 + n / 5000 + (0.1 if s == "al" else 0) + b / 100}
            for s in ("baseline", "al") for n in (250, 500, 1000) for b in range(3)]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    assert main(["figures", str(tmp_path), "--format", "svg", "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["fig3_auc_vs_ratio.svg", "fig4_auc_vs_size_r0.05.svg"]  # no cell folders: no Fig. 5
    assert_vector(tmp_path / "out" / "fig4_auc_vs_size_r0.05.svg")


def test_run_pair_figures_and_heatmaps(tmp_path: Path) -> None:
    run = write_pair(tmp_path)
    written = figures.write_figures(run, out=tmp_path / "figs", formats="pdf,svg,png", reviews=["r2", "nope"])
    assert names(written.files) == {f"{stem}.{fmt}" for stem in ("fig5_loss", "fig6_position", "review_r2")
                                    for fmt in ("pdf", "svg", "png")}
    assert any("nope" in note and "not in the run's test set" in note for note in written.notes)
    for path in written.files:
        if path.suffix in (".pdf", ".svg"):
            assert_vector(path)  # the heatmap's boxes and colour bar are vector too
    assert_no_machine_path(written.files, tmp_path)


def test_run_without_attention_skips_fig6_and_heatmaps_with_a_note(tmp_path: Path) -> None:
    run = write_run(tmp_path / "cell", "al", seed=0, attention=False)
    written = figures.write_figures(run, out=tmp_path / "figs", formats="svg")
    assert names(written.files) == {"fig5_loss.svg"}
    assert any("attention.json" in note for note in written.notes)


def test_default_heatmaps_are_example_reviews(tmp_path: Path) -> None:
    run = write_pair(tmp_path)
    written = figures.write_figures(run, out=tmp_path / "figs", formats="svg")
    assert len([p for p in written.files if p.name.startswith("review_")]) == figures.EXAMPLE_REVIEWS
    assert any("no --reviews given" in note for note in written.notes)


def test_one_colour_per_strategy_everywhere() -> None:
    colors = figure_style.STRATEGY_COLORS
    assert len(set(colors.values())) == len(colors)
    assert set(colors.values()) <= set(figure_style.OKABE_ITO.values())
    assert figure_style.line_style("al")["color"] == colors["al"]
    assert figure_style.line_style("al+random")["color"] == colors["al"]  # an arm keeps its strategy's colour
    assert figure_style.line_style("al+random")["linestyle"] != figure_style.line_style("al")["linestyle"]
    assert figure_style.line_style("baseline")["color"] != colors["al"]


def test_bad_format_and_bad_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="jpg"):
        figure_style.parse_formats("pdf,jpg")
    with pytest.raises(DataNotFoundError, match="neither a grid"):
        figures.write_figures(tmp_path)


CONTROLS = REPO / "outputs" / "replication" / "controls"


@pytest.mark.slow  # draws both committed records' figures, as the table3 figure test
def test_the_control_record_gets_its_budget_figure_and_pairs_with_table3(tmp_path: Path) -> None:
    """The committed control record: alone, its own cells; with --paired-with table3, its arms
    beside table3's baseline and HuMAL-AL (20 bootstraps each), the budget figure's n in its legend."""
    alone = figures.write_figures(CONTROLS, out=tmp_path / "alone", formats="svg")
    assert {"fig3_auc_vs_ratio.svg", "fig_budget_n250_r0.01.svg"} <= names(alone.files)
    assert main(["figures", str(CONTROLS), "--paired-with", str(TABLE3), "--format", "svg",
                 "--out", str(tmp_path / "paired")]) == 0
    budget = tmp_path / "paired" / "fig_budget_n250_r0.01.svg"
    text = budget.read_text()
    # the lines over the 10 bootstraps the budget cells ran, as the README's budget table pairs them
    assert "Baseline (n = 10)" in text and "every rationale (n = 10)" in text and "HuMAL-AL (n = 10)" in text
    losses = (tmp_path / "paired" / "fig5_loss_n250_r0.05.svg").read_text()  # table3's cells, from table3's folder
    assert "Baseline (mean of 20)" in losses and "HuMAL-AL (mean of 20)" in losses and "random (mean of 20)" in losses
    assert "(n = 1)" in (tmp_path / "alone" / "fig_budget_n250_r0.01.svg").read_text()  # the rerun cells alone
    fig3 = (tmp_path / "paired" / "fig3_auc_vs_ratio.svg").read_text()
    assert "HuMAL-AL, random" in fig3 and "HuMAL-AN" in fig3  # arms beside table3's strategies
    for path in (tmp_path / "paired").iterdir():
        assert_vector(path)


def test_paired_with_needs_a_record_and_a_grid(tmp_path: Path, capsys) -> None:
    assert main(["figures", str(CONTROLS), "--paired-with", str(tmp_path), "--out", str(tmp_path / "f")]) == 2
    assert "no summary.csv there" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="is the grid itself"):  # every cell would count twice
        figures.write_figures(TABLE3, out=tmp_path / "g", paired_with=TABLE3)
    with pytest.raises(ParameterError, match="has no control arms"):
        figures.write_figures(TABLE3, out=tmp_path / "g", paired_with=CONTROLS)
    run = write_pair(tmp_path / "pair")
    with pytest.raises(ParameterError, match="is a run"):
        figures.write_figures(run, out=tmp_path / "g", paired_with=TABLE3)


def test_budget_figure_draws_each_rationale_source_in_its_own_line_style() -> None:
    curve = pd.DataFrame([
        {"data_size": 250, "imbalance_ratio": 0.01, "strategy": s, "rationale_source": src, "fraction": f,
         "mean_auc": 0.7 + f / 5 + (0.05 if src == "random" else 0), "std_auc": 0.01, "n": 4}
        for s, src, f in [("baseline", "human", 0.0), ("al", "human", 0.3), ("al", "human", 1.0),
                          ("al", "random", 0.3), ("al", "random", 1.0)]])
    fig = figures.budget_figure(curve)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")}
    curves = {c.get_label(): c.lines[0] for c in fig.axes[0].containers}  # the errorbar curves
    assert set(curves) == {"HuMAL-AL (n = 4)", "HuMAL-AL, random (n = 4)"}
    assert len({line.get_linestyle() for line in curves.values()}) == 2
    rules = [line for label, line in lines.items() if "every rationale" in label]
    assert len(rules) == 2 and len({line.get_linestyle() for line in rules}) == 2
