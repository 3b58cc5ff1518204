"""One reader per file kind that humal_nb reads back, used by every command and by `Run`.

- `read_metrics` / `metrics_problem`: a run's `metrics.json` (the fields `runs.REQUIRED_METRICS`
  names, each of its type; a finished run is one whose `metrics.json` passes, `runs.is_complete`).
- `read_attention`: a run's `attention.json` (reviews with distinct ids; words, human and machine
  attention as lists of one length, the attention numbers).
- `read_manifest`: a grid's `grid.json` (its cells, each a folder name and its parameters).
- `read_summary`: a grid's `summary.csv`, checked against the cells on disk; one that disagrees
  with them (cut short, a cell missing or listed twice, a status or AUC the cell does not have)
  is rebuilt from the cells by the caller's `rebuild` (as `report.write_summary` does), else refused.
- `read_yaml_mapping`: a parameter or grid file (YAML holding a mapping).
- `check_model_folder`: a local model folder (config.json, weights, a tokenizer that covers the
  model's vocabulary) before any training starts.
- `grid_or_run` and `output_folder`: what a command's folder arguments are.

Each raises one of `humal_nb.core.errors`' classes naming the file, what is wrong and what to do.

(Over 500 lines: one validating reader per kind of file, kept together so that every
reader raises the same errors in the same words.)
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from humal_nb.config.run_config import PARAMETER_NAMES, read_yaml_mapping
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ModelError, ParameterError
from humal_nb.core.names import (
    ATTENTION_FILE,
    AXES,
    ERROR_FILE,
    MANIFEST_FILE,
    METRICS_FILE,
    STATUS_FAILED,
    STATUS_FINISHED,
    STATUS_INTERRUPTED,
    STATUS_NOT_ENOUGH_DATA,
    SUMMARY_FILE,
)

RERUN = "run it again (a grid reruns every cell that is not finished)"


# ---------------------------------------------------------------------- JSON files
def read_json_file(path: str | Path, fix: str = RERUN) -> Any:
    """A JSON file's content; DataNotFoundError / DataFormatError naming the file and `fix`."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataNotFoundError(f"{path} {what}; {fix}.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path} is not UTF-8 text ({exc.reason}); {fix}.") from None
    except ValueError as exc:
        raise DataFormatError(f"{path} is not valid JSON ({exc}): cut short or damaged; {fix}.") from None
    except OSError as exc:
        raise DataNotFoundError(f"{path} cannot be read ({exc.strerror}); {fix}.") from None


def _number(value: Any, allow_none: bool = True) -> bool:
    if value is None:
        return allow_none
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------- metrics.json
REQUIRED_METRICS = (
    "strategy", "model", "data_size", "imbalance_ratio", "minority_label", "bootstrap", "seed",
    "auc", "accuracy", "f1", "n_train", "n_test", "epochs", "alpha", "train_seconds",
    "history", "attention",
)
_METRIC_WHOLE = ("data_size", "minority_label", "bootstrap", "seed", "n_train", "n_test", "epochs")
_METRIC_NUMBERS = ("imbalance_ratio", "alpha", "auc", "accuracy", "f1", "train_seconds", "auc_flipped")
_ATTENTION_NUMBERS = ("cosine_to_human", "high_attention_rate")


def metrics_problem(metrics: Any) -> str | None:
    """What is wrong with a `metrics.json`'s content, in words; None when it is a finished run's."""
    if not isinstance(metrics, dict):
        return f"it holds a {type(metrics).__name__}, not a mapping"
    missing = [k for k in REQUIRED_METRICS if k not in metrics]
    if missing:
        return "it lacks " + ", ".join(repr(k) for k in missing)
    for key in ("strategy", "model"):
        if not isinstance(metrics[key], str) or not metrics[key]:
            return f"{key!r} is {metrics[key]!r}, not a name"
    bad = [k for k in _METRIC_WHOLE if not _whole(metrics[k])]
    bad += [k for k in _METRIC_NUMBERS if k in metrics and not _number(metrics[k])]
    if bad:
        return ", ".join(f"{k!r} is {metrics[k]!r}" for k in bad) + " (expected numbers)"
    if not _number(metrics["auc"], allow_none=False) or not 0.0 <= metrics["auc"] <= 1.0:
        return f"'auc' is {metrics['auc']!r}, not a number between 0 and 1"
    return _history_problem(metrics["history"]) or _attention_summary_problem(metrics["attention"]) or (
        "'parameters' is not a mapping" if not isinstance(metrics.get("parameters", {}), dict) else None)


def _history_problem(history: Any) -> str | None:
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        return "'history' is not a list of epochs (mappings)"
    for number, epoch in enumerate(history, start=1):
        bad = [k for k in ("ce_loss", "attention_loss") if not _number(epoch.get(k))]
        if bad:
            return f"'history' epoch {number}: {', '.join(map(repr, bad))} not numbers"
    return None


def _attention_summary_problem(attention: Any) -> str | None:
    if not isinstance(attention, dict):
        return "'attention' is not a mapping"
    bad = [k for k in _ATTENTION_NUMBERS if not _number(attention.get(k))]
    return f"'attention': {', '.join(map(repr, bad))} not numbers" if bad else None


def read_metrics(run_dir: str | Path) -> dict[str, Any]:
    """A finished run's `metrics.json`, checked (`metrics_problem`); DataFormatError naming it otherwise."""
    path = Path(run_dir) / METRICS_FILE
    metrics = read_json_file(path)
    problem = metrics_problem(metrics)
    if problem:
        raise DataFormatError(f"{path} is not a finished run's: {problem}; {RERUN}.")
    return metrics


def finished(run_dir: str | Path) -> bool:
    """True when the folder holds a `metrics.json` that `read_metrics` accepts."""
    try:
        read_metrics(run_dir)
    except (DataFormatError, DataNotFoundError):
        return False
    return True


# ---------------------------------------------------------------------- attention.json
def read_attention(folder: str | Path) -> dict[str, Any]:
    """A run folder's `attention.json` (`{"strategy", "reviews"}`), checked: reviews with
    distinct ids whose words, human and machine attention are lists of one length (numbers).
    Any folder holding one can be read (the explorer compares such folders too)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"run folder {str(folder)!r} does not exist.")
    path = folder / ATTENTION_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"run folder {str(folder)!r} has no {ATTENTION_FILE}: it is not a finished humal_nb run "
            "(train one with `humal-nb run PARAMS.yaml`, or pass the folder that holds metrics.json "
            "and attention.json)."
        )
    cache = read_json_file(path, "run it again")
    reviews = cache.get("reviews") if isinstance(cache, dict) else None
    if not isinstance(reviews, list) or not reviews:
        raise DataFormatError(f"{path} holds no reviews (expected {{'strategy', 'reviews': [...]}}); run it again.")
    for number, record in enumerate(reviews, start=1):
        problem = _review_problem(record)
        if problem:
            raise DataFormatError(f"{path}, review {number}: {problem}; run it again.")
    ids = [str(r.get("review_id")) for r in reviews]
    if len(set(ids)) != len(ids):
        raise DataFormatError(f"{path} lists a review_id more than once; run it again.")
    return cache


def _review_problem(record: Any) -> str | None:
    words = record.get("words") if isinstance(record, dict) else None
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return "its words are not a list of strings"
    if "review_id" not in record:
        return "it has no review_id"
    for key in ("human", "machine"):
        values = record.get(key)
        if not isinstance(values, list) or len(values) != len(words):
            return "words, human and machine are not lists of one length"
        if not all(_number(v, allow_none=False) for v in values):
            return f"{key} holds a value that is not a number"
    maps = record.get("maps", [])
    if not isinstance(maps, list) or not all(
            isinstance(m, list) and len(m) == len(words) and all(v in (0, 1) for v in m) for m in maps):
        return "its maps are not 0/1 lists as long as its words"
    if record.get("label", 0) not in (0, 1) or not _number(record.get("prob")):
        return "its label is not 0 or 1, or its prob is not a number"
    return None


# ---------------------------------------------------------------------- grid.json
def read_manifest(grid_dir: str | Path) -> dict[str, Any]:
    """A grid's `grid.json`: `cells` (each `cell`, a folder name, and `parameters`, a mapping,
    names distinct) and `varying` (parameter names), checked."""
    path = Path(grid_dir) / MANIFEST_FILE
    fix = "it is written by `humal-nb grid`: run the grid command again to rewrite it"
    data = read_json_file(path, fix)
    if isinstance(data, dict) and "cells" not in data and "varying" not in data:
        return data  # a record's name and code only: its cells are its folders (`listed_cells`)
    cells = data.get("cells") if isinstance(data, dict) else None
    varying = data.get("varying") if isinstance(data, dict) else None
    if not isinstance(cells, list) or not isinstance(varying, list) or not all(isinstance(v, str) for v in varying):
        raise DataFormatError(f"{path} lacks its 'cells' or 'varying' list; {fix}.")
    for number, cell in enumerate(cells, start=1):
        name = cell.get("cell") if isinstance(cell, dict) else None
        if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name
                or not isinstance(cell.get("parameters"), dict)):
            raise DataFormatError(f"{path}, cell {number}: not a cell (a folder name and its parameters); {fix}.")
    names = [c["cell"] for c in cells]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise DataFormatError(f"{path} lists cell(s) {', '.join(twice[:3])} more than once; {fix}.")
    return data


# ---------------------------------------------------------------------- summary.csv
#: summary.csv's columns besides the run parameters (`report.collect` writes them)
SUMMARY_COLUMNS = ("cell", "status", "auc", "auc_flipped", "accuracy", "f1", "cosine_to_human", "high_attention_rate",
                   "train_seconds", "error", "length_group")
SUMMARY_TEXT = ("cell", "strategy", "status", "error", "length_group", "model")
SUMMARY_STATUSES = (STATUS_FINISHED, STATUS_NOT_ENOUGH_DATA, STATUS_FAILED, STATUS_INTERRUPTED, "incomplete", "pending")
_SUMMARY_NUMBERS = ("data_size", "imbalance_ratio", "bootstrap", "auc", "auc_flipped", "accuracy", "f1",
                    "cosine_to_human", "high_attention_rate", "train_seconds")
#: how far a summary's number may be from its cell's: the committed records round to 4 decimals
_TOLERANCE = {"auc": 5.1e-5, "auc_flipped": 5.1e-5, "accuracy": 5.1e-5, "f1": 5.1e-5, "cosine_to_human": 5.1e-5,
              "high_attention_rate": 5.1e-5, "train_seconds": 0.051}


def read_summary(grid_dir: str | Path, rebuild: Callable[[Path], str] | None = None):
    """A grid's `summary.csv` as a DataFrame (text columns as text, an empty length group as "").

    Checked: readable CSV, the columns of a summary, one row per cell, known statuses, numbers
    where numbers belong, and, where the cells are on disk (grid.json or cell folders), the same
    cells with the statuses and AUCs their files give. A summary that fails is rebuilt from the
    cells with `rebuild(grid_dir)` (which returns the new summary's text, written or not) and
    read again; without `rebuild` or cells, DataFormatError naming the file and what is wrong."""
    grid_dir = Path(grid_dir)
    path = grid_dir / SUMMARY_FILE
    _refuse_non_grid(grid_dir)
    problem, frame = _parse_summary(path)
    cells = cells_on_disk(grid_dir)
    if problem is None and cells is not None:
        problem = _disagreement(grid_dir, frame, cells, complete=listed_cells(grid_dir) is not None)
    if problem is None:
        return frame
    if rebuild is None or not cells:
        raise DataFormatError(f"{path}: {problem}. Rebuild it from the grid's cells with `humal-nb report "
                              f"{grid_dir}` (or run the grid again).")
    print(f"humal-nb: {path}: {problem}; rebuilt it from the grid's cells.", file=sys.stderr)
    again, frame = _parse_summary(path, rebuild(grid_dir))
    if again is not None:
        raise DataFormatError(f"{path}: {again} (also when rebuilt from the cells).")
    return frame


def _refuse_non_grid(grid_dir: Path) -> None:
    if grid_dir.is_file():
        raise ParameterError(f"{grid_dir} is a file: pass a grid's folder (the one holding {SUMMARY_FILE}).")
    if not grid_dir.is_dir():
        raise DataNotFoundError(f"grid folder {str(grid_dir)!r} does not exist: pass the folder `humal-nb grid` "
                                "wrote (e.g. outputs/replication/table3).")
    if (grid_dir / METRICS_FILE).is_file() or (grid_dir / ERROR_FILE).is_file():
        raise ParameterError(f"{grid_dir} is one run's folder, not a grid's: pass the folder that holds the grid's "
                             f"{SUMMARY_FILE} and cell folders (its parent, if this is a cell).")
    if not (grid_dir / SUMMARY_FILE).is_file() and not cells_on_disk(grid_dir):
        raise DataNotFoundError(f"{grid_dir} holds no grid: no {SUMMARY_FILE}, no {MANIFEST_FILE}, no cell folders. "
                                "Pass the folder `humal-nb grid` wrote.")


def listed_cells(grid_dir: Path) -> list[dict[str, Any]] | None:
    """grid.json's cells (`read_manifest`), or None where there is no grid.json or it lists none."""
    if not (grid_dir / MANIFEST_FILE).exists():
        return None
    return read_manifest(grid_dir).get("cells")


def cells_on_disk(grid_dir: Path) -> list[str] | None:
    """The grid's cell names: grid.json's, else the sub-folders holding a metrics.json or
    error.json; None when there are neither."""
    listed = listed_cells(grid_dir)
    if listed is not None:
        names = [c["cell"] for c in listed]
        _check_listed(grid_dir, names)
        return names
    names = sorted(p.name for p in grid_dir.iterdir() if p.is_dir() and (
        (p / METRICS_FILE).is_file() or (p / ERROR_FILE).is_file()))
    return names or None


def _check_listed(grid_dir: Path, names: list[str]) -> None:
    """Refuse a grid.json that names cells with no folder while folders holding results go
    unlisted: it no longer describes the folder (damaged, or another grid's)."""
    absent = [n for n in names if not (grid_dir / n).exists()]
    if not absent:
        return
    known = set(names)
    unlisted = [p.name for p in grid_dir.iterdir() if p.is_dir() and p.name not in known
                and ((p / METRICS_FILE).is_file() or (p / ERROR_FILE).is_file())]
    if unlisted:
        raise DataFormatError(f"{grid_dir / MANIFEST_FILE} lists cell(s) with no folder ({', '.join(absent[:3])}) "
                              f"and not the cell folder(s) {', '.join(sorted(unlisted)[:3])}: it does not describe "
                              "this folder; run the grid command again to rewrite it.")


def _parse_summary(path: Path, text: str | None = None):
    """(problem or None, the frame) of a summary.csv (or of `text`)."""
    import io

    import pandas as pd

    if text is None and not path.is_file():
        return "there is none", None
    try:
        frame = pd.read_csv(io.StringIO(text) if text is not None else path, keep_default_na=True,
                            dtype={c: "string" for c in SUMMARY_TEXT})
    except pd.errors.EmptyDataError:
        return "it is empty", None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        return f"it is not a readable CSV table ({str(exc).splitlines()[0]})", None
    problem = _summary_problem(frame)
    if problem:
        return problem, None
    frame.attrs["columns_read"] = list(frame.columns)
    for column in (c for c in SUMMARY_COLUMNS if c not in frame.columns and c not in ("auc_flipped", "length_group")):
        frame[column] = "" if column == "error" else float("nan")  # a summary written by hand may leave results out
    for column in frame.columns:
        if column in SUMMARY_TEXT:
            frame[column] = frame[column].fillna("").astype(str).astype(object)
        elif column in _SUMMARY_NUMBERS:
            frame[column] = pd.to_numeric(frame[column])
    return None, frame


def _summary_problem(frame) -> str | None:
    import pandas as pd

    missing = [c for c in ("cell", *AXES, "status", "auc") if c not in frame.columns]
    if missing:
        return f"it lacks the column(s) {', '.join(missing)}"
    unknown = [str(c) for c in frame.columns if c not in SUMMARY_COLUMNS and c not in PARAMETER_NAMES]
    if unknown:
        return f"unknown column(s) {', '.join(map(repr, unknown[:3]))} (a header cut or changed)"
    if frame["cell"].isna().any() or frame["cell"].duplicated().any():
        return "a row has no cell name, or a cell is listed twice"
    unknown = sorted(set(frame["status"].fillna("<empty>")) - set(SUMMARY_STATUSES))
    if unknown:
        return f"unknown status {', '.join(map(repr, unknown[:3]))} (valid: {', '.join(SUMMARY_STATUSES)})"
    for column in (c for c in _SUMMARY_NUMBERS if c in frame.columns):
        values = pd.to_numeric(frame[column], errors="coerce")
        if (values.isna() & frame[column].notna()).any() or not values.dropna().map(math.isfinite).all():
            return f"column {column!r} holds a value that is not a number"
    done = frame["status"] == STATUS_FINISHED
    axes_missing = frame.loc[done, list(AXES)].isna().any(axis=1) | pd.to_numeric(frame.loc[done, "auc"]).isna()
    if axes_missing.any():
        return f"finished cell {frame.loc[done, 'cell'][axes_missing].iloc[0]} has no AUC or lacks a parameter"
    return None


def _disagreement(grid_dir: Path, frame, cells: list[str], complete: bool = True) -> str | None:
    """How `summary.csv` disagrees with the cells on disk, in words; None when it does not.
    `complete`: `cells` is every cell of the grid (grid.json's), not only the folders found."""
    listed = list(frame["cell"])
    missing = [c for c in cells if c not in set(listed)]
    extra = [c for c in listed if c not in set(cells)] if complete else []
    if missing or extra:
        return (f"it lists {len(listed)} cells, the grid has {len(cells)}"
                + (f" (missing: {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''})" if missing else "")
                + (f" (not in the grid: {', '.join(extra[:3])})" if extra else ""))
    read = frame.attrs.get("columns_read", list(frame.columns))
    for row in frame[read].to_dict("records"):
        problem = _row_disagreement(grid_dir / row["cell"], row, complete) if row["cell"] in set(cells) else None
        if problem:
            return f"cell {row['cell']}: {problem}"
    return None


def _row_disagreement(cell_dir: Path, row: dict[str, Any], values: bool = True) -> str | None:
    """How a summary row disagrees with its cell's files: its status, and with `values` (a grid
    whose grid.json lists its cells) its results and parameters."""
    metrics_path = cell_dir / METRICS_FILE
    if not metrics_path.is_file():
        if row["status"] == STATUS_FINISHED and (cell_dir / ERROR_FILE).is_file():
            return f"listed as finished, but the cell has no {METRICS_FILE} (it has {ERROR_FILE})"
        return None  # a cell with no files (e.g. a checkout of a record) is as the summary says
    metrics = read_metrics(cell_dir)
    if row["status"] != STATUS_FINISHED:
        return f"listed as {row['status']}, but the cell has finished"
    if not values:
        return None
    measured = {**metrics, **{k: metrics["attention"].get(k) for k in _ATTENTION_NUMBERS}}
    for key in (k for k in _TOLERANCE if k in row):
        value = row[key]
        if not _number(measured.get(key), allow_none=False):
            if _number(value, allow_none=False):
                return f"{key} {value} in the summary, none in its {METRICS_FILE}"
        elif not (_number(value, allow_none=False) and abs(value - measured[key]) <= _TOLERANCE[key]):
            return f"{key} {value} in the summary, {measured[key]} in its {METRICS_FILE}"
    params = metrics.get("parameters") or {}
    for key in (k for k in row if k in params and k not in NON_PARAMETER_COLUMNS):
        if not _same(row[key], params[key]):
            return f"{key} {row[key]} in the summary, {params[key]!r} in its {METRICS_FILE}"
    return None


#: summary columns that are no run parameter (out_dir-like keys are never columns)
NON_PARAMETER_COLUMNS = ("cell", "status", "error", *_SUMMARY_NUMBERS[3:])


def _same(value: Any, expected: Any) -> bool:
    """A summary cell's value as the CSV gives it against the parameter a cell ran with."""
    if isinstance(expected, bool) or isinstance(expected, str) or expected is None:
        text = "" if expected is None else str(expected)
        return str(value if value == value else "") in (text, text.lower()) or (
            isinstance(value, bool) and value == expected)
    if _number(expected, allow_none=False):
        return _number(value, allow_none=False) and abs(float(value) - expected) <= 1e-9 * max(1.0, abs(expected))
    return True  # lists and mappings are not summary columns


# ---------------------------------------------------------------------- parameter files
# read_yaml_mapping: config's (parameters come first; this module re-exports it as every file's reader)


# ---------------------------------------------------------------------- model folders
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")
#: the least share of a model's vocabulary (its embedding rows) its tokenizer must know beyond the
#: special tokens: a folder whose tokenizer files are missing yields one that knows only those
MIN_VOCABULARY_SHARE = 0.25


def check_model_folder(folder: str | Path, vocab_size: int | None = None) -> None:
    """A local model folder that can be trained from or predicted with: config.json, weights,
    tokenizer files, and a tokenizer that knows at least `MIN_VOCABULARY_SHARE` of the model's
    vocabulary (`vocab_size`, default config.json's) and no id beyond it. ModelError naming
    the folder and what to add otherwise."""
    folder = Path(folder).expanduser()
    _check_model_folder(str(folder.resolve()), _stamp(folder), vocab_size)


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """The folder's files (name, size, modification time): a folder saved again is checked again."""
    if not folder.is_dir():
        return ()
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file())


@functools.lru_cache(maxsize=16)
def _check_model_folder(name: str, stamp: tuple, vocab_size: int | None) -> None:
    folder = Path(name)
    lead = f"model folder {name!r} exists but is not a loadable Hugging Face model:"
    fix = "save the model and its tokenizer into it with save_pretrained (both), or name another model"
    try:
        config = read_json_file(folder / "config.json", fix)
    except (DataFormatError, DataNotFoundError) as exc:
        raise ModelError(f"{lead} {exc}") from None
    if not isinstance(config, dict):
        raise ModelError(f"{lead} its config.json holds no mapping; {fix}.")
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise ModelError(f"{lead} it has no weights ({', '.join(WEIGHT_FILES[:2])}); {fix}.")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelError(f"{lead} it has no tokenizer files ({', '.join(TOKENIZER_FILES[:3])} "
                         f"...): a tokenizer made without them knows only its special tokens; {fix}.")
    if vocab_size is None:
        base = config.get("base_config") if config.get("model_type") == "humal" else config
        vocab_size = (base or {}).get("vocab_size")
    if _whole(vocab_size) and vocab_size > 0:
        _check_vocabulary(folder, vocab_size, lead, fix)


def _check_vocabulary(folder: Path, vocab_size: int, lead: str, fix: str) -> None:
    from transformers import AutoTokenizer

    from humal_nb.core.quiet import quiet_transformers

    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"{lead} its tokenizer cannot be loaded ({exc}); {fix}.") from None
    vocabulary = tokenizer.get_vocab()
    known = len(set(vocabulary) - set(tokenizer.all_special_tokens))
    if known < MIN_VOCABULARY_SHARE * vocab_size:
        raise ModelError(f"{lead} its tokenizer knows {known} tokens besides its special "
                         f"ones, the model has {vocab_size} (config.json's vocab_size): it is not this model's "
                         f"tokenizer; {fix}.")
    top = max(vocabulary.values(), default=-1)
    if top >= vocab_size:
        raise ModelError(f"{lead} its tokenizer gives ids up to {top}, the model has "
                         f"embeddings for {vocab_size}: it is not this model's tokenizer; {fix}.")


# ---------------------------------------------------------------------- command arguments
def output_folder(out: str | Path) -> Path:
    """A command's `--out` folder, checked before anything is read or written (it is made as the
    first file is written); ParameterError when it names a file, or a folder inside a file."""
    out = Path(out)
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise ParameterError(f"--out {out}: {path} is a file: name a folder (it is made if need be).")
        if path.exists():
            break
    return out


__all__ = [
    "REQUIRED_METRICS",
    "check_model_folder",
    "cells_on_disk",
    "finished",
    "metrics_problem",
    "output_folder",
    "read_attention",
    "read_json_file",
    "read_manifest",
    "read_metrics",
    "read_summary",
    "read_yaml_mapping",
]
