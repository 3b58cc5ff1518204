"""Reports: a grid's `summary.csv` and aggregate HTML, and the tables of one run's report.

`build_report(grid_dir)` re-reads every cell of a grid (its `metrics.json` when finished,
else its `error.json`), rewrites `summary.csv` atomically, executes
`notebooks/grid_report.ipynb` on it and exports `report.html` into the grid folder.
A cell is read as finished only when `runs.is_complete` says so, so a cell that was
interrupted half-way never enters a table.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from humal_nb.config import arms, readers, runs
from humal_nb.config.run_config import DEFAULTS, NON_RESULT_KEYS, RunConfig
from humal_nb.core.markup import heading_html, note_html  # also report.note_html in the notebooks
from humal_nb.core.names import (
    ARM_KEYS,
    AXES,
    GRID_NOTEBOOK_NAME,
    REPORT_FILE,
    STATUS_FINISHED,
    SUMMARY_FILE,
)
from humal_nb.core.paths import display_path
from humal_nb.measures.stats import NOT_ENOUGH_DATA, format_ratio

RESULT_COLUMNS = ("status", "auc", "accuracy", "f1", "cosine_to_human", "high_attention_rate", "train_seconds", "error")
#: result columns that summary.csv holds only when a cell has them: the flipped-test AUC of a
#: planted shortcut (`shortcut_rate`)
OPTIONAL_RESULT_COLUMNS = ("auc_flipped",)


# ---------------------------------------------------------------------- a grid's cells
def _cells(grid_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The grid's cells [{cell, parameters}] and varying keys: from grid.json, else the folders."""
    if readers.listed_cells(grid_dir) is not None:
        data = readers.read_manifest(grid_dir)
        return data["cells"], list(data["varying"])
    cells = []
    for folder in sorted(p for p in grid_dir.iterdir() if p.is_dir()):
        source = folder / runs.METRICS_FILE if (folder / runs.METRICS_FILE).is_file() else folder / runs.ERROR_FILE
        if source.is_file():
            params = readers.read_json_file(source).get("parameters") if source.name == runs.ERROR_FILE else (
                readers.read_metrics(folder).get("parameters"))
            cells.append({"cell": folder.name, "parameters": params if isinstance(params, dict) else {}})
    dicts = [c["parameters"] for c in cells]
    varying = list(AXES)
    for key in RunConfig.__dataclass_fields__:
        if key in NON_RESULT_KEYS:  # out_dir differs in every cell; it is not an axis
            continue
        if key not in varying and len({json.dumps(d.get(key)) for d in dicts}) > 1:
            varying.append(key)
    if any(d.get("length_group") for d in dicts) and "length_group" not in varying:
        varying.append("length_group")
    for key in ARM_KEYS:
        if key not in varying and any(d.get(key, DEFAULTS[key]) != DEFAULTS[key] for d in dicts):
            varying.append(key)
    return cells, varying


def _read_cell(cell_dir: Path) -> dict[str, Any]:
    """status and results of one cell folder; a `metrics.json` that is there but damaged is an
    error naming it (`readers.read_metrics`), never a cell left out of the tables."""
    if (cell_dir / runs.METRICS_FILE).is_file():
        m = readers.read_metrics(cell_dir)
        attention = m.get("attention") or {}
        return {
            "status": STATUS_FINISHED,
            "auc": m.get("auc"),
            "accuracy": m.get("accuracy"),
            "f1": m.get("f1"),
            "cosine_to_human": attention.get("cosine_to_human"),
            "high_attention_rate": attention.get("high_attention_rate"),
            "train_seconds": m.get("train_seconds"),
            "error": "",
            **({"auc_flipped": m["auc_flipped"]} if "auc_flipped" in m else {}),
        }
    error_file = cell_dir / runs.ERROR_FILE
    if error_file.is_file():
        try:
            record = runs.read_json(error_file)
            return {"status": record.get("status", "failed"), "error": record.get("error", "")}
        except (OSError, ValueError):
            return {"status": "failed", "error": "error.json cannot be read"}
    # a grid makes every cell's folder before it starts any, and a cell writes its files when it
    # ends: an empty folder is a cell not run yet (as in a checkout of the committed record)
    started = cell_dir.is_dir() and any(cell_dir.iterdir())
    return {"status": "incomplete" if started else "pending", "error": ""}


def collect(grid_dir: str | Path) -> pd.DataFrame:
    """One row per grid cell: `cell`, the varying parameters, `status`, the results, `error`.

    status: `finished`, `not_enough_data`, `failed`, `interrupted`, `incomplete` (files
    written, no result) or `pending` (no folder, or an empty one).
    """
    grid_dir = Path(grid_dir)
    cells, varying = _cells(grid_dir)
    rows = []
    for cell in cells:
        params = cell["parameters"]
        row = {"cell": cell["cell"], **{k: params.get(k) for k in varying}}
        row.update({k: None for k in RESULT_COLUMNS})
        row.update(_read_cell(grid_dir / cell["cell"]))
        rows.append(row)
    optional = [k for k in OPTIONAL_RESULT_COLUMNS if any(r.get(k) is not None for r in rows)]
    return pd.DataFrame(rows, columns=["cell", *varying, *RESULT_COLUMNS[:2], *optional, *RESULT_COLUMNS[2:]])


def write_summary(grid_dir: str | Path) -> Path:
    """Re-read the cells and write `summary.csv` atomically; returns its path."""
    grid_dir = Path(grid_dir)
    path = grid_dir / SUMMARY_FILE
    runs.atomic_write_text(path, _rounded(collect(grid_dir)).to_csv(index=False))
    return path


#: decimals summary.csv keeps per result column. A balanced test set of 200 reviews has an AUC of
#: k / 20,000 (a tie counts half), so 6 decimals write every such AUC exactly
SUMMARY_DECIMALS = {"auc": 6, "auc_flipped": 6, "accuracy": 4, "f1": 4, "cosine_to_human": 4, "high_attention_rate": 4,
                    "train_seconds": 1}


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """The results as measured, to `SUMMARY_DECIMALS` (no 0.6512999999999999 in summary.csv)."""
    frame = frame.copy()
    for column, decimals in SUMMARY_DECIMALS.items():
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").round(decimals)
    return frame


def read_summary(grid_dir: str | Path) -> pd.DataFrame:
    """A grid's `summary.csv` (text columns as text, empty length group as ""), checked against
    the grid's cells (`readers.read_summary`); one that disagrees with them is rebuilt from them."""
    return readers.read_summary(grid_dir, rebuild=_rebuilt_summary)


def _rebuilt_summary(grid_dir: Path) -> str:
    """`summary.csv`'s text from the cells, written atomically where the folder can be written."""
    text = _rounded(collect(grid_dir)).to_csv(index=False)
    try:
        runs.atomic_write_text(grid_dir / SUMMARY_FILE, text)
    except OSError:  # a read-only record: the tables still come from its cells
        pass
    return text


def build_report(grid_dir: str | Path, progress: bool = False, out: str | Path | None = None,
                 paired_with: str | Path | None = None) -> Path:
    """Rewrite `summary.csv`, execute the grid report notebook, export `report.html`.

    With `out`, the report (and its executed notebook) goes into that folder, drawn from the
    grid's `summary.csv` as it is, and the grid's folder is left as it was. `paired_with`: for a
    grid of control arms, the record whose baseline and strategies they pair with (checked by
    the caller: `publication.paired_record`), shown beside the arms."""
    from humal_nb.core.errors import ParameterError
    from humal_nb.experiments import notebooks

    target = readers.output_folder(Path(out).expanduser().resolve()) if out else None
    grid_dir = Path(grid_dir).expanduser().resolve()
    if not grid_dir.is_dir():
        raise ParameterError(f"{str(grid_dir)!r} is not a grid's output folder.")
    if (grid_dir / runs.METRICS_FILE).exists() or (grid_dir / runs.ERROR_FILE).exists():
        raise ParameterError(
            f"{str(grid_dir)!r} is one run, not a grid: its report is {grid_dir / REPORT_FILE}. "
            f"For its attention report: humal-nb compare {grid_dir}. `humal-nb report` takes a grid's folder."
        )
    if not _cells(grid_dir)[0]:
        raise ParameterError(
            f"{str(grid_dir)!r} holds no grid cells (no grid.json, no run folders with metrics.json or "
            "error.json). `humal-nb report` takes the folder `humal-nb grid` wrote."
        )
    if target is None:
        write_summary(grid_dir)
    elif not (grid_dir / SUMMARY_FILE).is_file():
        raise ParameterError(f"{grid_dir} has no {SUMMARY_FILE}; --out draws the report from it and writes nothing "
                             f"into the grid's folder: run `humal-nb report {grid_dir}` without --out first.")
    parameters = {"grid_dir": str(grid_dir), "paired_with": str(Path(paired_with).resolve()) if paired_with else ""}
    return notebooks.execute_and_export(notebooks.NOTEBOOKS_DIR / GRID_NOTEBOOK_NAME, target or grid_dir, parameters,
                                        REPORT_FILE, title=f"HuMAL grid report: {grid_dir.name}", progress=progress)


# ---------------------------------------------------------------------- pieces of the grid report
def split_by_length(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs on the whole data set, runs restricted to a length group)."""
    if "length_group" not in summary.columns:
        return summary, summary.iloc[0:0]
    groups = summary["length_group"].fillna("").astype(str)
    return summary[groups == ""], summary[groups != ""]


def status_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """How many cells have each status."""
    counts = summary["status"].value_counts()
    return counts.rename_axis("status").reset_index(name="cells")


def unfinished_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """Cells that did not finish, with their status and error: failed first, not enough data last."""
    order = {"failed": 0, "interrupted": 1, "incomplete": 2, "pending": 3, NOT_ENOUGH_DATA: 5}
    rest = summary[summary["status"] != STATUS_FINISHED].copy()
    rest["_order"] = rest["status"].map(order).fillna(4)
    rest = rest.sort_values(["_order", "cell"]).drop(columns="_order")
    return rest[["cell", "status", "error"]].reset_index(drop=True)


#: the attention table's row keys besides the strategy: every axis that varies is its own column
ATTENTION_ROW_KEYS = ("data_size", "length_group")


def attention_row_keys(done: pd.DataFrame) -> list[str]:
    """The attention table's row keys: strategy (arm), training size, the length group where the
    grid has one, and every other parameter that varies (`stats.extra_keys`): never pooled."""
    from humal_nb.measures.stats import extra_keys

    keys = ["strategy", "data_size"]
    if "length_group" in done.columns and done["length_group"].fillna("").astype(str).ne("").any():
        keys.append("length_group")
    return keys + [k for k in extra_keys(done) if k not in keys and k != "imbalance_ratio"]


def attention_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean (std) cosine similarity to human attention and high-attention rate in percent, a row
    per strategy (or arm), training size and any other varying parameter, a column pair per
    imbalance ratio, over the finished cells (the paper's Table V form)."""
    done = arms.fold(summary[summary["status"] == STATUS_FINISHED])
    if done.empty:
        return pd.DataFrame()

    def text(values: pd.Series, scale: float = 1.0, digits: int = 2) -> str:
        values = pd.to_numeric(values, errors="coerce").dropna() * scale
        if values.empty:
            return ""
        std = values.std(ddof=1) if len(values) > 1 else float("nan")
        mean = f"{values.mean():.{digits}f}"
        if not math.isfinite(std):
            return mean
        small = 0 < std < 0.5 * 10 ** -digits  # '<0.01', not a std of '0.00'
        return f"{mean} ({f'<{10 ** -digits:.{digits}f}' if small else f'{std:.{digits}f}'})"

    keys = attention_row_keys(done)
    table = done.groupby([*keys, "imbalance_ratio"], dropna=False).agg(
        cosine=("cosine_to_human", text), rate=("high_attention_rate", lambda v: text(v, 100.0, 1)))
    table = table.unstack("imbalance_ratio")
    names = {"cosine": "cosine to human", "rate": "high-attention rate (%)"}
    table.columns = [f"{names[name]} @ {format_ratio(r)}" for name, r in table.columns]
    table = table.reset_index()
    table = table.iloc[sorted(range(len(table)), key=lambda i: (arms.sort_key(table["strategy"].iloc[i]),
                                                               *[str(table[k].iloc[i]) for k in keys[1:]]))]
    table.insert(0, "strategy", table.pop("strategy").map(arms.label))
    table = table.rename(columns={"data_size": "data size", "length_group": "length group"})
    return table.reset_index(drop=True).fillna("")


def sizes_per_ratio(summary: pd.DataFrame, minimum: int = 3) -> list[float]:
    """Imbalance ratios with at least `minimum` training sizes among finished runs (Fig. 4)."""
    done = summary[summary["status"] == STATUS_FINISHED]
    counts = done.groupby("imbalance_ratio")["data_size"].nunique()
    return [float(r) for r, n in counts.items() if n >= minimum]


def grid_header_html(grid_dir: str | Path, summary: pd.DataFrame) -> str:
    """The grid's name, folder (`display_path`) and how many cells have each status, escaped."""
    counts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in summary["status"].value_counts().items())
    return (
        f"{heading_html('Grid ' + Path(grid_dir).name, 2)}"
        f"{note_html(f'{len(summary)} cells: {counts}. Folder: {display_path(grid_dir)}')}"
    )


# ---------------------------------------------------------------------- one run's report
def run_header_html(config: RunConfig) -> str:
    """One run's set-up in a sentence or two, escaped (the data and a local model's folder by `display_path`)."""
    given = config.data_file or config.data_dir
    data = display_path(given) if given else "Yelp-HAT (default location)"
    group = f", length group {config.length_group}" if config.length_group else ""
    model = display_path(config.model) if Path(config.model).expanduser().is_dir() else config.model
    text = (
        f"Strategy {arms.label(arms.arm_key(config.strategy, config.rationale_source, config.rationale_fraction))} "
        f"on model {model}; "
        f"{config.data_size} training reviews with {format_ratio(config.imbalance_ratio)} of label "
        f"{config.minority_label}{group}, bootstrap {config.bootstrap}, seed {config.seed}; "
        f"{config.n_test} test reviews; {config.epochs} epoch(s), alpha {config.alpha:g}, "
        f"max_length {config.max_length}. Data: {data}."
    )
    return note_html(text)


def saved_html(saved: str | Path | None) -> str:
    """Where a run was saved (`display_path`), or that it was not (out_dir empty), escaped."""
    return note_html(f"Saved in {display_path(saved)}." if saved else "Not saved: out_dir is empty.")


def metrics_table(metrics: dict[str, Any], baseline: dict[str, Any] | None = None) -> pd.DataFrame:
    """Test metrics of a run (and of its baseline, with the difference), one row per model."""
    rows = {}
    for m in ([baseline] if baseline else []) + [metrics]:
        attention = m.get("attention") or {}
        rows[arms.label(arms.arm_key(m["strategy"], m.get("rationale_source"), m.get("rationale_fraction")))] = {
            "AUC": m["auc"],
            "accuracy": m["accuracy"],
            "F1": m["f1"],
            "cosine to human": attention.get("cosine_to_human"),
            "high-attention rate": attention.get("high_attention_rate"),
            "human high-attention rate": attention.get("human_high_attention_rate"),
            "train seconds": m["train_seconds"],
            "training reviews": m["n_train"],
            "minority reviews": m.get("n_train_minority"),
            "test reviews": m["n_test"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if baseline and len(table) == 2:
        diff = table.iloc[1, :5].astype(float) - table.iloc[0, :5].astype(float)
        table.loc[f"{table.index[1]} - Baseline", diff.index] = diff.to_numpy()
    counts = ["training reviews", "minority reviews", "test reviews"]
    table[counts] = table[counts].astype("Int64")
    return table.round(4)


def metrics_view(metrics: dict[str, Any], baseline: dict[str, Any] | None = None):
    """`metrics_table` for display: 3 decimals, whole seconds, blanks where a value does not apply."""
    table = metrics_table(metrics, baseline)
    formats = {column: "{:.0f}" if column == "train seconds" else "{:.3f}" for column in table.columns}
    formats.update({column: "{:d}" for column in ("training reviews", "minority reviews", "test reviews")})
    return table.style.format(formats, na_rep="")


__all__ = [
    "attention_table",
    "build_report",
    "collect",
    "grid_header_html",
    "heading_html",
    "metrics_table",
    "metrics_view",
    "note_html",
    "read_summary",
    "run_header_html",
    "saved_html",
    "sizes_per_ratio",
    "split_by_length",
    "status_counts",
    "unfinished_cells",
    "write_summary",
]
