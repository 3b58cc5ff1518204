"""humal_nb.publication.tables: Table III from the committed table3 record (numbers recomputed here from
summary.csv), the paired differences, and a run pair's tables in LaTeX, Markdown and CSV."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fake_runs import write_pair
from scipy import stats as scipy_stats

from humal_nb.cli.commands import main
from humal_nb.core.errors import ParameterError
from humal_nb.publication import tables

REPO = Path(__file__).resolve().parents[1]
TABLE3 = REPO / "outputs" / "replication" / "table3"
LABELS = {"baseline": "Baseline", "al": "HuMAL-AL", "an": "HuMAL-AN", "ap": "HuMAL-AP"}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    frame = pd.read_csv(TABLE3 / "summary.csv")
    return frame[frame["status"] == "finished"]


def latex_rows(text: str) -> list[list[str]]:
    """The body rows of a booktabs tabular, cells stripped."""
    body = text.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]
    return [[c.strip() for c in line.rstrip(" \\").split("&")] for line in body.strip().splitlines()]


def test_latex_table3_means_equal_summary_csv(tmp_path: Path, summary: pd.DataFrame) -> None:
    written = tables.write_tables(TABLE3, "latex", out=tmp_path)
    assert {p.name for p in written.files} == {"table3_auc.tex", "table5_attention.tex"}
    assert any("Table IV skipped" in note for note in written.notes)
    text = (tmp_path / "table3_auc.tex").read_text()
    assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text
    means = summary.groupby(["data_size", "imbalance_ratio", "strategy"])["auc"].agg(["mean", "std", "count"])
    rows = latex_rows(text)
    assert len(rows) == len(means)
    for size, ratio, label, n, cell, *_ in rows:
        strategy = {v: k for k, v in LABELS.items()}[label]
        mean, std, count = means.loc[(int(size), float(ratio.replace("\\%", "")) / 100, strategy)]
        assert int(n) == count
        places = 3 if len(cell.split(" ")[0].rstrip("*")) == 5 else 2  # three where two would hide a difference
        shown = f"<{10 ** -places:.{places}f}" if 0 < std < 0.5 * 10 ** -places else f"{std:.{places}f}"
        assert re.fullmatch(rf"{mean:.{places}f}\*? \({re.escape(shown)}\)", cell), (size, ratio, label, cell)


def test_paired_difference_is_the_mean_of_per_bootstrap_differences(tmp_path: Path, summary: pd.DataFrame) -> None:
    tables.write_tables(TABLE3, "csv", out=tmp_path)
    numbers = pd.read_csv(tmp_path / "table3_auc.csv")
    cell = summary[(summary["data_size"] == 250) & (summary["imbalance_ratio"] == 0.01)]
    base = cell[cell["strategy"] == "baseline"].set_index("bootstrap")["auc"]
    for strategy in ("al", "an"):
        strat = cell[cell["strategy"] == strategy].set_index("bootstrap")["auc"]
        common = base.index.intersection(strat.index)
        diff = (strat[common] - base[common]).to_numpy()
        row = numbers[(numbers["data_size"] == 250) & (numbers["imbalance_ratio"] == 0.01)
                      & (numbers["strategy"] == strategy)].iloc[0]
        low, high = scipy_stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=scipy_stats.sem(diff))
        assert row["diff_mean"] == pytest.approx(diff.mean())
        assert (row["diff_low"], row["diff_high"]) == pytest.approx((low, high))
        assert row["diff_pairs"] == len(common)
        p = scipy_stats.ttest_rel(strat[common], base[common], alternative="greater").pvalue
        assert row["p_value"] == pytest.approx(p)
    assert numbers.loc[numbers["strategy"] == "baseline", "diff_mean"].isna().all()


def test_markdown_and_csv_hold_no_machine_path(tmp_path: Path) -> None:
    for fmt in ("markdown", "csv"):
        written = tables.write_tables(TABLE3, fmt, out=tmp_path / fmt)
        for path in written.files:
            text = path.read_text()
            assert str(REPO) not in text and str(tmp_path) not in text
    markdown = (tmp_path / "markdown" / "table3_auc.md").read_text()
    assert "| 250 | 1% | HuMAL-AL | 20 | 0.95* (0.03) |" in markdown


def test_run_pair_tables(tmp_path: Path) -> None:
    run = write_pair(tmp_path)
    assert main(["tables", str(run), "--format", "markdown", "--out", str(tmp_path / "t")]) == 0
    files = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert files == ["metrics.md", "table5_cosine.md"]
    metrics = (tmp_path / "t" / "metrics.md").read_text()
    assert "| Baseline | 0.700 |" in metrics and "| HuMAL-AL | 0.900 |" in metrics
    assert "| HuMAL-AL - Baseline | 0.200 |" in metrics
    written = tables.write_tables(run, "latex", out=tmp_path / "l")
    assert any("faithfulness skipped" in note and "model/" in note for note in written.notes)
    for path in written.files:
        assert str(tmp_path) not in path.read_text()


def test_bad_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="html"):
        tables.write_tables(TABLE3, "html", out=tmp_path)
    assert np.isnan(tables._interval(np.array([0.1]), 0.95)["diff_low"])


@pytest.mark.parametrize("fmt", ["latex", "markdown", "csv"])
def test_the_committed_control_record_writes_every_table_with_blank_missing_cells(tmp_path: Path, fmt: str) -> None:
    """Arms run at one ratio only leave cells of Table V empty: blank, never 'nan', in every format."""
    written = tables.write_tables(REPO / "outputs" / "replication" / "controls", fmt, out=tmp_path)
    names = {p.name for p in written.files}
    assert any(n.startswith("table5_attention") for n in names) and any(n.startswith("table3_auc") for n in names)
    attention = next(p for p in written.files if p.name.startswith("table5_attention")).read_text()
    assert "HuMAL-AL, random" in attention
    if fmt != "csv":
        assert "nan" not in attention.lower()
    else:  # one row per arm and ratio, in the text table's order
        labels = list(pd.read_csv(next(p for p in written.files if p.name.startswith("table5_attention")))["label"])
        assert labels[:4] == ["Baseline", "HuMAL-AL", "HuMAL-AL, 30 % rationales", "HuMAL-AL, 10 % rationales"]
        assert labels.count("HuMAL-AL, random") == 2


def test_numeric_columns_ignore_missing_cells() -> None:
    assert tables._numeric(pd.Series([np.nan, "0.5 (0.1)", None, "0.7*"], dtype=object))
    assert not tables._numeric(pd.Series([np.nan, "HuMAL-AL"], dtype=object))
    assert not tables._numeric(pd.Series([np.nan, None], dtype=object))


CONTROLS = REPO / "outputs" / "replication" / "controls"


def test_control_tables_paired_with_their_record_show_its_numbers_and_pair_counts(tmp_path: Path) -> None:
    """`tables CONTROLS --paired-with TABLE3`: the arms beside table3's 20 bootstraps of the baseline,
    the pair count of each comparison; alone, the rerun cell's single pair is said in the cell."""
    assert main(["tables", str(CONTROLS), "--paired-with", str(TABLE3), "--format", "csv,markdown",
                 "--out", str(tmp_path / "paired")]) == 0
    numbers = pd.read_csv(tmp_path / "paired" / "table3_auc.csv")
    at = numbers[(numbers["data_size"] == 250) & (numbers["imbalance_ratio"] == 0.01)].set_index("strategy")
    assert at.loc["baseline", "n"] == 20 and at.loc["al+random", "n"] == 20
    assert at.loc["al+random", "diff_pairs"] == 20 and at.loc["al+f0.3", "diff_pairs"] == 10
    markdown = (tmp_path / "paired" / "table3_auc.md").read_text()
    assert "| 250 | 1% | Baseline | 20 |" in markdown and "pairs" in markdown.splitlines()[2]
    random_row = next(line for line in markdown.splitlines() if "| 250 | 1% | HuMAL-AL, random |" in line)
    assert "| 20 |" in random_row and "only" not in random_row and "[" in random_row
    tables.write_tables(CONTROLS, "markdown", out=tmp_path / "alone")
    alone = (tmp_path / "alone" / "table3_auc.md").read_text()
    assert "(only 1 pair)" in alone  # the rerun cell is one bootstrap: no interval, and the cell says why
    assert "no baseline to pair with" in alone  # the arm at 5 % has no baseline in the control record


def test_paired_with_is_checked_for_tables(tmp_path: Path, capsys) -> None:
    assert main(["tables", str(CONTROLS), "--paired-with", str(tmp_path), "--out", str(tmp_path / "t")]) == 2
    assert "no summary.csv there" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="is the grid itself"):
        tables.write_tables(TABLE3, "csv", out=tmp_path / "t", paired_with=TABLE3)
    with pytest.raises(ParameterError, match="has no control arms"):
        tables.write_tables(TABLE3, "csv", out=tmp_path / "t", paired_with=CONTROLS)
    with pytest.raises(ParameterError, match="is a run"):
        tables.write_tables(write_pair(tmp_path / "pair"), "csv", out=tmp_path / "t", paired_with=TABLE3)
    assert not (tmp_path / "t").exists()


def test_report_paired_with_and_out_are_checked_before_a_kernel_starts(tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["report", str(TABLE3), "--paired-with", str(CONTROLS), "--out", str(out)]) == 2
    assert "has no control arms" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["report", str(CONTROLS), "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow  # executes the grid report notebook
def test_report_out_writes_elsewhere_and_leaves_the_record_untouched(tmp_path: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in CONTROLS.rglob("*")}
    out = tmp_path / "report"
    assert main(["report", str(CONTROLS), "--paired-with", str(TABLE3), "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in CONTROLS.rglob("*")} == before
    text = (out / "report.html").read_text()
    assert "paired by bootstrap" in text and "HuMAL-AL, random" in text and "HuMAL-AN" in text


# ---------------------------------------------------------------------- LaTeX, checked
RECORDS = ("table3", "controls", "gpu", "shortcut_pilot")
RULES = ("toprule", "midrule", "bottomrule")


@pytest.fixture(scope="module")
def latex_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every LaTeX table humal-nb writes from the committed records (the controls also paired with
    table3) and from a run pair."""
    out = tmp_path_factory.mktemp("latex")
    files = []
    for record in RECORDS:
        files += tables.write_tables(REPO / "outputs" / "replication" / record, "latex", out=out / record).files
    files += tables.write_tables(CONTROLS, "latex", out=out / "paired", paired_with=TABLE3).files
    files += tables.write_tables(write_pair(out / "pair"), "latex", out=out / "run").files
    return files


def _tabular_problems(text: str) -> list[str]:
    """What is wrong with a LaTeX table, read by a LaTeX parser (pylatexenc): unbalanced groups or
    environments, a tabular without its booktabs rules in order, a row whose cells are not as many
    as the tabular's column spec has columns, a caption that begins with the table's number."""
    from pylatexenc.latexwalker import LatexEnvironmentNode, LatexMacroNode, LatexSpecialsNode, LatexWalker

    nodes = LatexWalker(text, tolerant_parsing=False).get_latex_nodes()[0]  # raises on unbalanced input
    found, problems = [], []

    def visit(items) -> None:
        for node in items or []:
            if isinstance(node, LatexEnvironmentNode) and node.environmentname == "tabular":
                found.append(node)
            visit(getattr(node, "nodelist", None))

    visit(nodes)
    if len(found) != 1:
        return [f"{len(found)} tabular environments"]
    tabular = found[0]
    spec = tabular.nodeargd.argnlist[-1].latex_verbatim().strip("{}")
    columns = len(re.findall(r"[lrc]|p\{[^}]*\}", spec))
    rules = [n.macroname for n in tabular.nodelist if isinstance(n, LatexMacroNode) and n.macroname in RULES]
    if rules != list(RULES):
        problems.append(f"booktabs rules {rules}")
    row_cells, rows = 1, []
    for node in tabular.nodelist:
        if isinstance(node, LatexSpecialsNode) and node.specials_chars == "&":
            row_cells += 1
        elif isinstance(node, LatexMacroNode) and node.macroname == "\\":
            rows.append(row_cells)
            row_cells = 1
    if not rows or any(n != columns for n in rows):
        problems.append(f"{columns} columns in the spec {spec!r}, rows with {sorted(set(rows))} cells")
    captions = re.findall(r"\\caption\{([^\n]*)\}", text)
    if any(re.match(r"Table [IVX]+", c) for c in captions):
        problems.append("the caption begins with the table's number")
    if "\\label{tab:" not in text or "-0.0" in re.sub(r"-0\.0*[1-9]", "", text):
        problems.append("no \\label{tab:...}, or a negative zero")
    return problems


def test_every_latex_table_parses_with_booktabs_rules_and_full_rows(latex_files: list[Path]) -> None:
    assert {p.name for p in latex_files} >= {"table3_auc.tex", "table5_attention.tex", "metrics.tex",
                                            "table5_cosine.tex", "shortcut_reliance.tex"}
    for path in latex_files:
        assert _tabular_problems(path.read_text()) == [], path
    assert _tabular_problems("\\begin{table}\\begin{tabular}{ll}\\toprule a & b \\\\ \\midrule c \\\\ "
                             "\\bottomrule\\end{tabular}\\end{table}") != []  # a row one cell short
    from pylatexenc.latexwalker import LatexWalkerError

    with pytest.raises(LatexWalkerError):  # an environment left open
        _tabular_problems("\\begin{table}\\begin{tabular}{ll}\\toprule a & b \\\\ \\end{table}")


def test_latex_cells_and_captions(tmp_path: Path) -> None:
    """Two decimals, three where two would hide a difference; '<0.01' for a std that rounds to zero;
    no table number in a LaTeX caption (LaTeX numbers it), still in the Markdown one."""
    tables.write_tables(CONTROLS, "latex,markdown", out=tmp_path, paired_with=TABLE3)
    text = (tmp_path / "table3_auc.tex").read_text()
    assert "\\caption{Mean AUC" in text and "\\label{tab:table3_auc}" in text and "\\resizebox" in text
    assert "0.998* (0.001)" in text and "0.996 (0.001)" in text  # 250 x 50 %: all 1.00 at two decimals
    assert "0.95* (0.03)" in text and "1.00* (0.00)" not in text
    assert (tmp_path / "table3_auc.md").read_text().startswith("Table III. Mean AUC")
    assert tables.mean_std(0.9996, 0.0004) == "1.00 (<0.01)" and tables.mean_std(0.5, 0.0) == "0.50 (0.00)"
    assert tables.fixed(-0.0001, sign=True) == "+0.000" and tables.fixed(-0.0001) == "0.000"


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="no pdflatex here: the LaTeX tables are checked by the parser test "
                           "(test_every_latex_table_parses_with_booktabs_rules_and_full_rows) only")
@pytest.mark.heavy
def test_every_latex_table_compiles_within_the_text_width(latex_files: list[Path], tmp_path: Path) -> None:
    for path in latex_files:
        document = tmp_path / f"{path.parent.name}_{path.stem}.tex"
        document.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{graphicx}\n"
                            f"\\begin{{document}}\n\\input{{{path.as_posix()}}}\n\\end{{document}}\n")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", document.name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        log = (tmp_path / document.with_suffix(".log").name).read_text(errors="replace")
        assert done.returncode == 0, (path, done.stdout[-2000:])
        assert "Overfull \\hbox" not in log, (path, "wider than the text")
