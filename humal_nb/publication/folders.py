"""What `humal-nb figures` and `humal-nb tables` read: a grid's folder, or a run with its baseline.

- A **grid** is a folder with `summary.csv` (what `humal-nb grid` and `humal-nb report`
  write; `grid.json` beside it names the cells). Its cells' folders are read only for the
  loss histories (Fig. 5).
- A **run** is a folder with a finished `metrics.json`; with a finished `baseline/` beside
  it (`compare_baseline: true`) it is a comparison. `run_models` lists the baseline first,
  then the run, each with its metrics and, where the folder has it, its `attention.json`.

Both commands return `Written`: the files written and a note for each figure or table the
folder cannot give (and why), which the command line prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from humal_nb.config import arms, readers, runs
from humal_nb.core.errors import DataNotFoundError, ParameterError
from humal_nb.core.names import BASELINE_DIR, MANIFEST_FILE, SUMMARY_FILE

GRID, RUN = "grid", "run"


class Written(NamedTuple):
    """`files`: every file written, in order; `notes`: what was skipped, and why."""

    files: list[Path]
    notes: list[str]


def folder_kind(folder: str | Path) -> str:
    """`grid` (the folder has summary.csv) or `run` (a finished metrics.json); else an error that says what to pass."""
    folder = Path(folder)
    if folder.is_file():
        raise ParameterError(f"{str(folder)!r} is a file: pass a run's or a grid's output folder.")
    if not folder.is_dir():
        raise DataNotFoundError(f"{str(folder)!r} is not a folder: pass a run's or a grid's output folder.")
    if (folder / runs.METRICS_FILE).is_file():
        readers.read_metrics(folder)  # a damaged metrics.json is named, never read as no run
        return RUN
    if (folder / SUMMARY_FILE).is_file() or (folder / MANIFEST_FILE).is_file() or readers.cells_on_disk(folder):
        return GRID
    if (folder / runs.ERROR_FILE).is_file():
        raise DataNotFoundError(f"{str(folder)!r} is a run that did not finish: its {runs.ERROR_FILE} says why. "
                                "Run it again, then draw it.")
    raise DataNotFoundError(
        f"{str(folder)!r} is neither a grid (no {SUMMARY_FILE}: run `humal-nb report DIR` on a grid first) "
        f"nor a finished run (no complete {runs.METRICS_FILE})."
    )


@dataclass
class RunModel:
    """One trained model of a run folder: its arm key (`arms.arm_key`), display name, folder,
    `metrics.json` and the per-review records of its `attention.json` (None without one)."""

    key: str
    label: str
    folder: Path
    metrics: dict[str, Any]
    records: list[dict[str, Any]] | None


def _model(folder: Path) -> RunModel:
    metrics = runs.read_metrics(folder)
    key = arms.arm_key(metrics.get("strategy", ""), metrics.get("rationale_source", "human"),
                       metrics.get("rationale_fraction", 1.0))
    path = folder / runs.ATTENTION_FILE
    records = readers.read_attention(folder)["reviews"] if path.is_file() else None
    return RunModel(key, arms.label(key), folder, metrics, records or None)


def run_models(folder: str | Path) -> list[RunModel]:
    """The run's baseline (when `baseline/` holds a finished run) and the run itself."""
    folder = Path(folder)
    models = [_model(folder)]
    if runs.is_complete(folder / BASELINE_DIR):
        models.insert(0, _model(folder / BASELINE_DIR))
    if len(models) == 2 and models[0].label == models[1].label:
        for model in models:
            model.label = f"{model.label} ({model.folder.name})"
    return models


def comparison(folder: str | Path) -> Any:
    """The run and its baseline joined per test review (`compare.load_comparison`), or None
    when the folder is not a pair with both `attention.json` files."""
    from humal_nb.analyses import compare

    folder = Path(folder)
    pair = folder / BASELINE_DIR
    if not all((f / runs.ATTENTION_FILE).is_file() and runs.is_complete(f) for f in (folder, pair)):
        return None
    for run_dir in (pair, folder):
        readers.read_attention(run_dir)  # a damaged attention.json is named before the pair is joined
    return compare.load_comparison(pair, folder)


def paired_record(folder: str | Path, paired_with: str | Path | None, kind: str | None = None) -> Path | None:
    """`--paired-with` checked for a grid of control arms `folder`: None where it is not given;
    else the record's folder, refused (ParameterError, saying what to pass) where it is no record,
    `folder` is a run, the records ran at other settings, it is `folder` itself or `folder` has no
    control arms to pair."""
    if not paired_with:
        return None
    from humal_nb.analyses import controls

    folder, paired_with = Path(folder), Path(paired_with)
    if (kind or folder_kind(folder)) != GRID:
        raise ParameterError(f"--paired-with pairs a grid of control arms with another record; {folder} is a run. "
                             "Leave --paired-with out, or pass the control grid's folder.")
    if not (paired_with / SUMMARY_FILE).is_file():
        raise ParameterError(f"--paired-with {paired_with}: no {SUMMARY_FILE} there. Pass the folder "
                             "of the record the arms pair with (e.g. outputs/replication/table3).")
    controls.check_pairing(folder, paired_with)
    arm_rows(folder, paired_with)
    return paired_with


def arm_rows(folder: Path, paired_with: Path) -> pd.DataFrame:
    """A control grid's arm rows (arms folded into `strategy`), to draw or tabulate beside
    `paired_with`; refused where that would count cells twice or there is no arm to pair."""
    from humal_nb.experiments import report

    if folder.resolve() == paired_with.resolve():
        raise ParameterError(f"--paired-with {paired_with} is the grid itself: pass the other record, the one "
                             "whose baseline and strategy cells the grid's control arms pair with.")
    own = arms.fold(report.read_summary(folder))
    rows = own[own["strategy"].astype(str).str.contains(arms.SEPARATOR, regex=False)]
    if rows.empty:
        raise ParameterError(f"--paired-with: {folder} has no control arms (no rationale_source or "
                             "rationale_fraction other than the defaults) to pair with another record; "
                             "use it without --paired-with.")
    return rows


__all__ = ["GRID", "RUN", "RunModel", "Written", "arm_rows", "comparison", "folder_kind", "paired_record",
           "run_models"]
