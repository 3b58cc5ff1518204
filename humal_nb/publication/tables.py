"""The paper's tables as files for a paper (`humal-nb tables DIR [--format latex,markdown,csv]`).

`write_tables(folder, fmt)` writes every table the folder can give, with the numbers of the
HTML reports (the same functions compute them):

- a **grid** (`summary.csv`): Table III (whole data set) and Table IV (length groups), one
  row per size, ratio and strategy or control arm: the mean (std) AUC over the finished
  bootstraps (`stats.auc_table`), starred where the strategy beats the baseline in the
  one-sided paired t-test at p < 0.05, beside the paired difference to the baseline (the
  mean of the per-bootstrap AUC differences, matched by bootstrap, with its two-sided 95 %
  t interval; the one-sided test at 0.05 matches the lower end of the 90 % interval) and p;
  the attention table (Table V form, `report.attention_table`); and Fig. 4's data
  requirement (`stats.data_requirement`) at each ratio with three or more sizes;
- a **run** (or a run with its `baseline/`): the metrics table (`report.metrics_table`),
  Table V (cosine to human, `compare.cosine_summary`) where `attention.json` is at hand,
  and the faithfulness table (`compare.plausibility_faithfulness`) where `humal-nb compare`
  has already run both saved models (their `faithfulness_cache.json`).

LaTeX is booktabs (`Styler.to_latex(hrules=True)`, `\\usepackage{booktabs}`), Markdown is a
pipe table, CSV holds the unrounded numbers. A table the folder cannot give is skipped
with a note (`publication.Written`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from humal_nb.config import arms, readers, runs
from humal_nb.core.errors import ParameterError
from humal_nb.core.names import FAITHFULNESS_CACHE_FILE, STATUS_FAILED
from humal_nb.experiments import report
from humal_nb.measures import analysis, stats
from humal_nb.publication import folders as publication
from humal_nb.publication.folders import Written

FORMATS = {"latex": ".tex", "markdown": ".md", "csv": ".csv"}
CONFIDENCE = 0.95


@dataclass
class Table:
    """One table: its file stem, caption, the numbers (CSV) and the cells as shown (LaTeX, Markdown),
    and the paper's number of the table it reproduces ('Table III'): the Markdown caption begins
    with it, the LaTeX caption does not (LaTeX numbers its tables itself)."""

    name: str
    caption: str
    numbers: pd.DataFrame
    text: pd.DataFrame
    number: str = ""


def write_tables(folder: str | Path, fmt: str | Sequence[str] = tuple(FORMATS), out: str | Path | None = None,
                 paired_with: str | Path | None = None) -> Written:
    """Every table of a run, a comparison or a grid as `out/<table>.<tex|md|csv>` (default `folder/tables`),
    in each of the formats `fmt` ('latex,markdown,csv' or a list of them; default all). `paired_with`:
    for a grid of control arms, the record whose baseline and strategy cells they pair with (e.g.
    outputs/replication/table3 beside outputs/replication/controls), tabulated beside the arms."""
    formats = parse_formats(fmt)
    folder = Path(folder)
    kind = publication.folder_kind(folder)
    paired = publication.paired_record(folder, paired_with, kind)
    tables, notes = grid_tables(folder, paired) if kind == publication.GRID else run_tables(folder)
    out_dir = readers.output_folder(out if out else folder / "tables")
    files = []
    for fmt in formats:
        for table in tables:
            path = out_dir / f"{table.name}{FORMATS[fmt]}"
            runs.atomic_write_text(path, render(table, fmt))
            files.append(path)
    return Written(files, notes)


def parse_formats(fmt: str | Sequence[str]) -> list[str]:
    """'latex,markdown' or a list of format names, checked; ParameterError naming the valid ones."""
    names = [f.strip() for f in (fmt.split(",") if isinstance(fmt, str) else fmt) if f.strip()]
    unknown = [f for f in names if f not in FORMATS]
    if unknown or not names:
        raise ParameterError(f"table format {', '.join(map(repr, unknown)) or 'missing'}: valid are "
                             f"{', '.join(FORMATS)} (comma-separated, e.g. --format latex,csv).")
    return list(dict.fromkeys(names))


def render(table: Table, fmt: str) -> str:
    """The table as LaTeX (booktabs), Markdown or CSV text."""
    if fmt == "csv":
        return table.numbers.to_csv(index=False)
    if fmt == "markdown":
        return to_markdown(table.text, f"{table.number}. {table.caption}" if table.number else table.caption)
    return to_latex(table.text, table.caption, table.name)


# ---------------------------------------------------------------------- a grid
def grid_tables(folder: Path, paired_with: Path | None = None) -> tuple[list[Table], list[str]]:
    """Table III, Table IV, the attention table and the data requirement of a grid; with
    `paired_with`, a grid of control arms beside that record's baseline and strategies
    (`controls.combined_summary`, as the Controls block pairs them)."""
    if paired_with is None:
        summary = report.read_summary(folder)
    else:
        from humal_nb.analyses import controls

        summary = controls.combined_summary(folder, paired_with)
    whole, by_length = report.split_by_length(summary)
    tables, notes = [], []
    caption = ("Mean AUC (std) over the bootstraps; * beats the baseline in a one-sided paired t-test over the "
               "matched bootstraps at p < 0.05. AUC - baseline: the mean of the paired differences "
               "over the bootstraps both ran [95% CI].")
    if whole.empty:
        notes.append("Table III skipped: the grid has no runs on the whole data set (only length groups).")
    else:
        tables.append(auc_table("table3_auc", caption, whole, number="Table III"))
    if by_length.empty:
        notes.append("Table IV skipped: the grid has no length groups.")
    else:
        tables.append(auc_table("table4_auc_by_length", "By text length. " + caption, by_length, number="Table IV"))
    tables.append(attention_table(summary))
    if "auc_flipped" in summary.columns:
        tables.append(shortcut_reliance_table(summary))
    ratios = report.sizes_per_ratio(whole)
    if not ratios:
        notes.append("data requirement (Fig. 4) skipped: no imbalance ratio has three or more training sizes.")
    for ratio in ratios:
        frame = stats.data_requirement(whole, ratio)
        tables.append(Table(f"data_requirement_r{ratio:g}",
                            f"Labeled reviews the baseline needs to match HuMAL-AL (lowess), ratio "
                            f"{stats.format_ratio(ratio)}.", frame, _text(frame)))
    return tables, notes


def paired_differences(summary: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per row of `stats.auc_table(summary).long` that is not the baseline: the mean of the
    per-bootstrap AUC differences to the baseline (matched by bootstrap, as the paired test)
    and its two-sided t interval. Columns: the long table's keys, `imbalance_ratio`,
    `strategy`, `diff_mean`, `diff_low`, `diff_high`, `diff_pairs`."""
    long = stats.auc_table(summary).long
    keys = list(long.columns[: long.columns.get_loc("strategy")])
    frame = stats._prepare(summary)  # exactly the rows auc_table reads: arms folded, status and AUC typed
    frame = frame[frame["status"] == stats.FINISHED]
    per_boot = frame.groupby([*keys, "strategy", "bootstrap"], dropna=False)["auc"].mean()
    rows = []
    for values, strat in per_boot.groupby(level=[*keys, "strategy"], dropna=False):
        *cell, strategy = values
        if strategy == "baseline":
            continue
        try:
            base = per_boot.loc[(*cell, "baseline")]
        except KeyError:
            continue
        strat = strat.droplevel(list(range(len(keys) + 1)))
        diff = (strat - base.reindex(strat.index)).dropna().to_numpy()
        rows.append({**dict(zip(keys, cell)), "strategy": strategy, **_interval(diff, confidence)})
    return pd.DataFrame(rows, columns=[*keys, "strategy", "diff_mean", "diff_low", "diff_high", "diff_pairs"])


def _interval(diff: np.ndarray, confidence: float) -> dict[str, float]:
    n = len(diff)
    mean = float(diff.mean()) if n else math.nan
    if n < 2:
        return {"diff_mean": mean, "diff_low": math.nan, "diff_high": math.nan, "diff_pairs": n}
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / math.sqrt(n))
    return {"diff_mean": mean, "diff_low": mean - half, "diff_high": mean + half, "diff_pairs": n}


def auc_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """Table III/IV's numbers: `stats.auc_table(summary).long` (rows with a run or a status)
    joined with `paired_differences`, and `label`, the row's name (`arms.label`)."""
    long = stats.auc_table(summary).long
    long = long[long["status"] != "missing"]
    keys = list(long.columns[: long.columns.get_loc("strategy")])
    diffs = paired_differences(summary)
    merged = long.merge(diffs, on=[*keys, "strategy"], how="left")
    merged.insert(merged.columns.get_loc("strategy") + 1, "label", merged["strategy"].map(arms.label))
    merged["diff_pairs"] = merged["diff_pairs"].astype("Int64")
    return merged.reset_index(drop=True)


def auc_table(name: str, caption: str, summary: pd.DataFrame, number: str = "") -> Table:
    """Table III or IV (see `auc_rows`), cells as the HTML report writes them: two decimals, three
    where two would show different means of one size and ratio as equal (`_mean_places`), a
    standard deviation that rounds to zero as '<0.01'."""
    numbers = auc_rows(summary)
    keys = list(numbers.columns[: numbers.columns.get_loc("imbalance_ratio")])
    places = _mean_places(numbers, [*keys, "imbalance_ratio"])
    text = pd.DataFrame({_header(k): numbers[k].astype(str) for k in keys})
    text["ratio"] = numbers["imbalance_ratio"].map(stats.format_ratio)
    text["strategy"] = numbers["label"]
    text["n"] = numbers["n"].astype(str)
    text["AUC mean (std)"] = [_auc_cell(r, d) for r, d in zip(numbers.itertuples(), places)]
    text["AUC - baseline [95% CI]"] = [
        _diff_cell(r) + _few_pairs(r.diff_pairs) if not pd.isna(r.diff_pairs)
        else ("no baseline to pair with" if r.strategy != "baseline" and r.status == stats.FINISHED else "")
        for r in numbers.itertuples()]
    text["pairs"] = ["" if pd.isna(n) else str(n) for n in numbers["diff_pairs"]]
    text["p"] = ["" if not math.isfinite(p) else stats._format_p(p) for p in numbers["p_value"]]
    return Table(name, caption, numbers, text, number)


def _mean_places(numbers: pd.DataFrame, group: list[str]) -> list[int]:
    """Per row, the decimals of its mean AUC: 2, or 3 for every row of a group (size, ratio, ...)
    where two different means would read the same at 2."""
    places = pd.Series(2, index=numbers.index)
    for _, part in numbers.groupby(group, dropna=False, sort=False):
        means = part["mean_auc"].dropna().astype(float)
        if means.nunique() > len({fixed(m, 2) for m in means}):
            places[part.index] = 3
    return places.tolist()


def fixed(value: float, places: int = 3, sign: bool = False) -> str:
    """`value` with `places` decimals ('+' first with `sign`), never a negative zero ('-0.000')."""
    rounded = round(float(value), places) + 0.0  # -0.0 + 0.0 is 0.0
    return f"{rounded:+.{places}f}" if sign else f"{rounded:.{places}f}"


def mean_std(mean: float, std: float, places: int = 2) -> str:
    """'0.93 (0.02)'; a std that rounds to zero but is not zero as '<0.01', a missing one as '-'."""
    if not math.isfinite(std):
        spread = "-"
    elif 0 < std < 0.5 * 10 ** -places:
        spread = f"<{10 ** -places:.{places}f}"
    else:
        spread = fixed(std, places)
    return f"{fixed(mean, places)} ({spread})"


def _header(column: str) -> str:
    return {"data_size": "data size", "length_group": "length group"}.get(column, column)


def _auc_cell(row, places: int = 2) -> str:
    if row.status == stats.NOT_ENOUGH_DATA:
        return stats.NOT_ENOUGH_DATA_TEXT
    if row.status == STATUS_FAILED:
        return "failed"
    if not math.isfinite(row.mean_auc):
        return ""
    cell = mean_std(row.mean_auc, row.std_auc, places)  # '0.93 (0.02)': the HTML report's digits
    return cell.replace(" (", "* (", 1) if row.significant else cell


def _diff_cell(row) -> str:
    if not isinstance(row.diff_mean, float) or not math.isfinite(row.diff_mean):
        return ""
    if not math.isfinite(row.diff_low):
        return fixed(row.diff_mean, sign=True)
    return f"{fixed(row.diff_mean, sign=True)} [{fixed(row.diff_low, sign=True)}, {fixed(row.diff_high, sign=True)}]"


#: fewer matched bootstraps than this and a comparison's cell says so
FEW_PAIRS = 5


def _few_pairs(pairs: object) -> str:
    """' (only 1 pair)' where a comparison with the baseline has fewer than FEW_PAIRS pairs."""
    if pd.isna(pairs) or int(pairs) >= FEW_PAIRS:
        return ""
    return f" (only {int(pairs)} pair{'s' if int(pairs) != 1 else ''})"


def attention_table(summary: pd.DataFrame) -> Table:
    """Cosine to human and high-attention rate per strategy, training size (and any other varying
    parameter) and ratio: the HTML report's cells (`report.attention_table`, the rate in percent),
    and their means, stds and counts in the CSV (the rate as a fraction, as metrics.json holds it)."""
    done = arms.fold(summary[summary["status"] == stats.FINISHED])  # an arm is its own row, as in the text
    keys = report.attention_row_keys(done) if not done.empty else ["strategy", "data_size"]
    numbers = done.groupby([*keys, "imbalance_ratio"], dropna=False).agg(
        cosine_mean=("cosine_to_human", "mean"), cosine_std=("cosine_to_human", "std"),
        high_attention_rate_mean=("high_attention_rate", "mean"), high_attention_rate_std=("high_attention_rate", "std"),
        n=("cosine_to_human", "count")).reset_index()
    numbers = numbers.sort_values([*keys, "imbalance_ratio"], key=lambda c: c.map(arms.sort_key)
                                  if c.name == "strategy" else c, ignore_index=True)  # the text table's order
    numbers.insert(1, "label", numbers["strategy"].map(arms.label))
    text = report.attention_table(summary)
    text = text.astype(object).where(text.notna(), "")  # a strategy not run at a ratio: a blank cell
    return Table("table5_attention", "Cosine similarity to human attention and high-attention rate (% of a "
                 "text's words above its mean + 1 std), mean (std) over the finished runs, a row per strategy "
                 "and training size.", numbers, text)


def shortcut_reliance_table(summary: pd.DataFrame) -> Table:
    """A grid with a planted shortcut (`shortcut_rate`): per size, ratio and arm the clean and the
    flipped test's AUC and the reliance (clean - flipped) with its 95 % CI; for HuMAL-AL's arms
    the reliance removed against the baseline, its one-sided bound and Holm p (`worth.shortcut_table`)."""
    from humal_nb.analyses import worth

    long = worth.shortcut_table(summary)
    numbers = long.drop(columns=[c for c in ("vs_baseline",) if c in long.columns]).copy()
    vs = [r if isinstance(r, dict) else {} for r in long.get("vs_baseline", pd.Series([None] * len(long)))]
    for key in ("gain", "gain_lower", "p_value", "holm_p", "pairs"):
        numbers[f"less_reliance_{key}"] = [v.get(key, np.nan) for v in vs]
    text = pd.DataFrame({
        "data size": numbers["data_size"].astype(str),
        "ratio": numbers["imbalance_ratio"].map(stats.format_ratio),
        "shortcut in (% of training texts)": numbers["shortcut_rate"].map(
            lambda r: "" if not math.isfinite(r) else f"{100 * r:g}"),
        "trained": numbers["strategy"].map(arms.label),
        "n": numbers["n"].astype(str),
        "clean AUC mean (std)": [mean_std(m, s) if math.isfinite(m) else "" for m, s in
                                 zip(numbers["auc"], numbers["auc_std"])],
        "flipped AUC mean (std)": [mean_std(m, s) if math.isfinite(m) else "" for m, s in
                                   zip(numbers["auc_flipped"], numbers["auc_flipped_std"])],
        "reliance (AUC) [95% CI]": [_diff_cell(r) for r in numbers.rename(columns={
            "reliance": "diff_mean", "reliance_low": "diff_low", "reliance_high": "diff_high"}).itertuples()],
        "less than baseline (Holm p)": ["" if not math.isfinite(g) else f"{fixed(g, sign=True)} ({stats._format_p(p)})"
                                        for g, p in zip(numbers["less_reliance_gain"], numbers["less_reliance_holm_p"])],
    })
    return Table("shortcut_reliance", "AUC on the clean test set and on the flipped test set (the planted class "
                 "token of the other class in every test text), mean (std) over the bootstraps; reliance: clean "
                 "minus flipped AUC, mean [95% CI]; less than baseline: the paired reduction of reliance against "
                 "the baseline, with its Holm-adjusted one-sided p over the table.", numbers, text)


# ---------------------------------------------------------------------- a run
def run_tables(folder: Path) -> tuple[list[Table], list[str]]:
    """The metrics table, Table V and the faithfulness table of a run and its baseline."""
    models = publication.run_models(folder)
    notes = []
    baseline = models[0].metrics if len(models) == 2 else None
    metrics = report.metrics_table(models[-1].metrics, baseline)
    metrics = metrics.rename_axis("model").reset_index()
    tables = [Table("metrics", "Test metrics of each model" + (" and the difference to the baseline." if baseline
                                                               else "."), metrics, _text(metrics, digits=3))]
    comparison = publication.comparison(folder) if baseline else None
    if comparison is not None:
        from humal_nb.analyses import compare

        cosine = compare.cosine_summary(comparison)
    elif models[-1].records is not None:
        records = models[-1].records
        cosine = analysis.cosine_table([r["human"] for r in records], {models[-1].label: [r["machine"] for r in records]})
    else:
        cosine = None
        notes.append(f"Table V skipped: the run has no {runs.ATTENTION_FILE}.")
    if cosine is not None:
        from humal_nb.publication import views

        tables.append(Table("table5_cosine", "Cosine similarity of machine to human word attention on the test set.",
                            cosine, _text(cosine, digits=3, headers=views.HEADERS)))
    faith = faithfulness_table(folder, comparison, notes)
    if faith is not None:
        tables.append(faith)
    return tables, notes


def faithfulness_table(folder: Path, comparison, notes: list[str]) -> Table | None:
    """The compare report's plausibility and faithfulness table, where both runs hold their
    model and the faithfulness cache that `humal-nb compare` wrote; else None with a note."""
    from humal_nb.analyses import compare

    if comparison is None:
        notes.append("faithfulness skipped: it compares a run with its baseline/ (both with attention.json).")
        return None
    pair = (comparison.baseline_dir, comparison.humal_dir)
    if not compare.has_models(comparison):
        notes.append("faithfulness skipped: it runs both saved models, and a run has no model/ "
                     "(train with save_model: true).")
        return None
    if not all((f / FAITHFULNESS_CACHE_FILE).is_file() for f in pair):
        notes.append(f"faithfulness skipped: no {FAITHFULNESS_CACHE_FILE} in both runs; run `humal-nb compare "
                     f"{folder}` first (it runs both models on every reduced review, minutes on a CPU).")
        return None
    from humal_nb.analyses.faithfulness import cached_precision
    from humal_nb.publication import views

    precision = cached_precision(comparison.humal_dir) or "auto"  # what `humal-nb compare` ran in: read, not rerun
    frame = compare.plausibility_faithfulness(comparison, compare.faithfulness(comparison, precision=precision))
    return Table("faithfulness", "Plausibility (IOU-F1, AUPRC, token F1) and faithfulness (ERASER AOPC "
                 "comprehensiveness, sufficiency) of each attention source under each model.", frame,
                 _text(frame, digits=3, headers=views.FAITH_HEADERS))


# ---------------------------------------------------------------------- formats
def _text(frame: pd.DataFrame, digits: int = 3, headers: dict[str, str] | None = None) -> pd.DataFrame:
    """Cells as shown: floats with `digits` decimals (seconds whole), missing values blank."""
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        places = 0 if "seconds" in str(column) else digits
        if pd.api.types.is_float_dtype(values):
            shown[column] = ["" if pd.isna(v) else fixed(v, places) for v in values]
        else:
            shown[column] = ["" if pd.isna(v) else str(v) for v in values]
    shown.columns = [(headers or {}).get(c, c) for c in shown.columns]
    return shown.reset_index(drop=True)


#: the tabular in a box no wider than the text: a wide table (Table V, the run metrics) is scaled
#: down to fit, a narrow one is left as it is (graphicx: `\\usepackage{graphicx}`)
FIT_OPEN = "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
FIT_CLOSE = "%\n}\n"


def to_latex(text: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs table (`Styler.to_latex(hrules=True)`), text escaped, '<' in math mode, the
    tabular scaled down to the line width where it is wider (`FIT_OPEN`); with a caption, a
    floating table with `\\caption` and `\\label{tab:<label>}`."""
    shown = text.map(lambda v: str(v).replace("<", "$<$"))
    styler = shown.style.hide(axis="index").format(escape="latex-math").format_index(escape="latex", axis=1)
    align = "".join("l" if not _numeric(shown[c]) else "r" for c in shown.columns)
    options = {"caption": _latex_escape(caption), "label": f"tab:{label}"} if caption else {}
    latex = styler.to_latex(hrules=True, column_format=align, position_float="centering" if caption else None,
                            **options)
    start, end = latex.index("\\begin{tabular}"), latex.index("\\end{tabular}") + len("\\end{tabular}")
    return latex[:start] + FIT_OPEN + latex[start:end] + FIT_CLOSE + latex[end:].lstrip("\n")


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": "$<$", ">": "$>$"}


def _latex_escape(text: str) -> str:
    """A caption's text with LaTeX's special characters escaped."""
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def _numeric(values: pd.Series) -> bool:
    cells = [str(v) for v in values if not pd.isna(v) and str(v)]
    return bool(cells) and all(arms.is_number(v.split(" ")[0].rstrip("*").replace("$<$", "").lstrip("<")) for v in cells)


def to_markdown(text: pd.DataFrame, caption: str = "") -> str:
    """A pipe table ('|' in cells escaped), the caption above it."""
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [f"{caption}\n"] if caption else []
    lines.append("| " + " | ".join(cell(c) for c in text.columns) + " |")
    lines.append("|" + "|".join("---:" if _numeric(text[c]) else "---" for c in text.columns) + "|")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in text.itertuples(index=False)]
    return "\n".join(lines) + "\n"


__all__ = [
    "FORMATS",
    "Table",
    "auc_rows",
    "auc_table",
    "attention_table",
    "grid_tables",
    "paired_differences",
    "render",
    "run_tables",
    "to_latex",
    "to_markdown",
    "write_tables",
]
