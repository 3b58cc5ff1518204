"""humal_nb.publication.figures and figure_style: publication figures of a grid (the committed table3 record)
and of a run pair written by hand; vector output, fonts embedded, one colour per strategy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fake_runs import write_pair, write_run
from PIL import Image
from scipy import stats as scipy_stats

from humal_nb.cli.commands import main
from humal_nb.core.errors import DataNotFoundError, ParameterError
from humal_nb.publication import figure_style, figures

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
                for fmt in ("pdf", "svg", "png", "caption.txt")}
    assert names(written.files) == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in written.files)
    assert any("Fig. 4 skipped" in note and "three or more training sizes" in note for note in written.notes)
    for path in written.files:
        if path.suffix in (".pdf", ".svg"):
            assert_vector(path)
    assert_captions(written.files)
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
    assert written == ["fig3_auc_vs_ratio.caption.txt", "fig3_auc_vs_ratio.svg", "fig4_auc_vs_size_r0.05.caption.txt",
                       "fig4_auc_vs_size_r0.05.svg"]  # no cell folders: no Fig. 5
    assert "n (bootstraps) per point: 250 reviews: n = 3 each" in (tmp_path / "out" / "fig4_auc_vs_size_r0.05.caption.txt").read_text()
    assert_vector(tmp_path / "out" / "fig4_auc_vs_size_r0.05.svg")


@pytest.mark.heavy
def test_run_pair_figures_and_heatmaps(tmp_path: Path) -> None:
    run = write_pair(tmp_path)
    written = figures.write_figures(run, out=tmp_path / "figs", formats="pdf,svg,png", reviews=["r2", "nope"])
    assert names(written.files) == {f"{stem}.{fmt}" for stem in ("fig5_loss", "fig6_position", "review_r2")
                                    for fmt in ("pdf", "svg", "png", "caption.txt")}
    assert_captions(written.files)
    position = (tmp_path / "figs" / "fig6_position.svg").read_text()
    assert "human (4 reviews)" in position and "95 % CI" in position
    assert "percentile bootstrap interval over the reviews" in (tmp_path / "figs" / "fig6_position.caption.txt").read_text()
    heatmap = (tmp_path / "figs" / "review_r2.svg").read_text()
    assert "each row scaled to its maximum" in heatmap
    assert any("nope" in note and "not in the run's test set" in note for note in written.notes)
    for path in written.files:
        if path.suffix in (".pdf", ".svg"):
            assert_vector(path)  # the heatmap's boxes and colour bar are vector too
    assert_no_machine_path(written.files, tmp_path)


def test_run_without_attention_skips_fig6_and_heatmaps_with_a_note(tmp_path: Path) -> None:
    run = write_run(tmp_path / "cell", "al", seed=0, attention=False)
    written = figures.write_figures(run, out=tmp_path / "figs", formats="svg")
    assert names(written.files) == {"fig5_loss.svg", "fig5_loss.caption.txt"}
    assert any("attention.json" in note for note in written.notes)


def test_default_heatmaps_are_example_reviews(tmp_path: Path) -> None:
    run = write_pair(tmp_path)
    written = figures.write_figures(run, out=tmp_path / "figs", formats="svg")
    assert len([p for p in written.files if p.name.startswith("review_") and p.suffix == ".svg"]) == figures.EXAMPLE_REVIEWS
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
    assert "Baseline (10 bootstraps)" in text and "HuMAL-AL (10 bootstraps)" in text and "every rationale" not in text
    assert "250 training reviews, ratio 1%" in text and "n = 250" not in text
    losses = (tmp_path / "paired" / "fig5_loss_n250_r0.05.svg").read_text()  # table3's cells, from table3's folder
    assert "Baseline (mean of 20)" in losses and "HuMAL-AL (mean of 20)" in losses and "random (mean of 20)" in losses
    assert "(1 bootstraps)" in (tmp_path / "alone" / "fig_budget_n250_r0.01.svg").read_text()  # the rerun cells alone
    fig3 = (tmp_path / "paired" / "fig3_auc_vs_ratio.svg").read_text()
    assert "HuMAL-AL, random (n = 20)" in fig3 and "HuMAL-AN (n = 5)" in fig3  # arms beside table3's strategies
    assert "HuMAL-AP: first layer; others: last layer" in losses
    for path in (tmp_path / "paired").iterdir():
        if path.suffix == ".svg":
            assert_vector(path)
    assert_captions(list((tmp_path / "paired").iterdir()))


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


def test_budget_figure_draws_each_rationale_source_in_its_own_style() -> None:
    curve = pd.DataFrame([
        {"data_size": 250, "imbalance_ratio": 0.01, "strategy": s, "rationale_source": src, "fraction": f,
         "mean_auc": 0.7 + f / 5 + (0.05 if src == "random" else 0), "std_auc": 0.01, "n": 4}
        for s, src, f in [("baseline", "human", 0.0), ("al", "human", 0.3), ("al", "human", 1.0),
                          ("al", "random", 0.3), ("al", "random", 1.0)]])
    fig = figures.budget_figure(curve)
    curves = {c.get_label(): c.lines[0] for c in fig.axes[0].containers}  # the errorbar curves
    assert set(curves) == {"HuMAL-AL (4 bootstraps)", "HuMAL-AL, random (4 bootstraps)"}
    assert len({line.get_linestyle() for line in curves.values()}) == 2
    assert len({(line.get_color(), line.get_marker()) for line in curves.values()}) == 2
    assert not [line for line in fig.axes[0].get_lines() if "every rationale" in line.get_label()]
    bars = fig.axes[0].containers[0].lines[2][0].get_segments()[0]  # the first point's bar: its 95 % t-interval
    assert bars[1][1] - bars[0][1] == pytest.approx(2 * scipy_stats.t.ppf(0.975, 3) * 0.01 / 2)
    assert "n (bootstraps)" in figures.budget_caption(curve)


def assert_captions(paths: list[Path]) -> None:
    """Every figure written has its caption beside it, which names what is plotted and n."""
    stems = {p.stem for p in paths if p.suffix in (".pdf", ".svg", ".png")}
    for stem in stems:
        caption = next(p for p in paths if p.name == f"{stem}.caption.txt").read_text()
        assert caption.strip() and ("n (" in caption or "review" in caption), (stem, caption)


@pytest.mark.slow  # draws the committed table3 record's Fig. 3
def test_fig3_svg_says_ci_and_draws_one_marker_per_series(tmp_path: Path) -> None:
    """Fig. 3 of the committed table3 record: the bars are 95 % CIs (axis and caption say so), n per
    series in the legend, each strategy its own colour and marker."""
    import re

    written = figures.write_figures(TABLE3, out=tmp_path, formats="svg")
    svg = (tmp_path / "fig3_auc_vs_ratio.svg").read_text()
    assert "mean AUC, 95 % CI" in svg
    assert "Baseline (n = 5–20)" in svg and "HuMAL-AP (n = 5)" in svg
    caption = (tmp_path / "fig3_auc_vs_ratio.caption.txt").read_text()
    assert "95 % confidence interval of the mean over the bootstraps (t-interval" in caption
    assert "250 reviews, ratio 1%: Baseline 20, HuMAL-AL 20, HuMAL-AN 5, HuMAL-AP 5" in caption
    markers = {}
    for key in ("baseline", "al", "an", "ap"):
        group = re.search(rf'<g id="series-{key}-250">(.*?)</g>', svg, re.S)
        assert group, key
        markers[key] = set(re.findall(r'xlink:href="#([^"]+)"', group.group(1)))
        assert len(markers[key]) == 1, (key, markers[key])  # one marker shape, at every point
    assert len(set().union(*markers.values())) == 4  # a marker of its own per series
    assert_captions(written.files)


def test_every_arm_has_its_own_colour_and_marker() -> None:
    keys = ["baseline", "al", "an", "ap", "al+random", "al+uniform", "al+f0.3", "al+f0.1"]
    looks = {(figure_style.series_style(k)["color"], figure_style.series_style(k)["marker"]) for k in keys}
    assert len(looks) == len(keys)
