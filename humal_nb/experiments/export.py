"""A finished run's attention as a table, and a trained run's predictions for new texts.

- `export_attention(run_dir, out)` (`humal-nb export`): one row per (test text, word) with
  `review_id`, `word_index`, `word`, `label`, `length_group`, `human_attention` (the summed
  kept maps, sum 1 per text), `human_votes` (how many kept maps highlight the word), then for
  every model of the run folder (`baseline/` first when `compare_baseline` wrote it, then the
  run's own strategy) `<model>_attention` (last-layer word attention, eq. 1, sum 1 per text)
  and `<model>_prob` (probability of label 1), all read from each run's `attention.json`.
  `.csv` or `.parquet` by the file's suffix.
- `predict_texts(run_dir, texts_file, out)` (`humal-nb predict`): new texts (CSV or JSONL with
  `text_id` and `text`; no human attention) through the run's saved `model/`: the probability
  of label 1 and the last layer's word attention over `text.split()`. `.jsonl`: one object per
  text (`text_id`, `text`, `prob`, `truncated`, `words`, `attention`); `.csv` / `.parquet`:
  one row per (text, word) (`text_id`, `word_index`, `word`, `prob`, `truncated`,
  `attention`). Words cut off by the run's `max_length` get attention 0 (`truncated`).

Files are written atomically: a failed export leaves no half-written table. pandas, torch
and the model code are imported when used, since the command line builds its parser here.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, ParameterError
from humal_nb.experiments.run import Run

EXPORT_SUFFIXES = (".csv", ".parquet")
PREDICT_SUFFIXES = (".csv", ".jsonl", ".parquet")


# ---------------------------------------------------------------------- writing tables
def _check_suffix(out: str | Path, allowed: tuple[str, ...], what: str) -> Path:
    out = Path(out)
    if out.suffix.lower() not in allowed:
        raise ParameterError(f"{what} file {str(out)!r} must end in {' or '.join(allowed)}: the suffix picks the format.")
    return out


def _write_atomic(out: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(temporary path)` beside `out`, then rename it to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _write_table(frame: Any, out: Path) -> Path:
    """A DataFrame as CSV or parquet (by `out`'s suffix)."""
    if out.suffix.lower() == ".parquet":
        return _write_atomic(out, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))
    return _write_atomic(out, lambda tmp: frame.to_csv(tmp, index=False))


# ---------------------------------------------------------------------- a run's models
def run_models(run_dir: str | Path) -> dict[str, Run]:
    """Name -> finished run of every model in a run folder: `baseline` (its `baseline/`, when
    present) first, then the run itself under its strategy (`run` if that is `baseline` too)."""
    run = Run.open(run_dir)
    models = {} if run.baseline is None else {"baseline": run.baseline}
    strategy = str(run.metrics.get("strategy") or "run")
    models["run" if strategy in models else strategy] = run
    return models


def _attention_records(run: Run) -> dict[str, dict[str, Any]]:
    """review_id -> record of a run's attention.json (checked by `Run.review_attention`)."""
    return {str(record.get("review_id")): record for record in run.review_attention}


# ---------------------------------------------------------------------- export
def export_attention(run_dir: str | Path, out: str | Path) -> Path:
    """Write a finished run's human and machine word attention, one row per (text, word).

    Args:
        run_dir: a finished run folder (metrics.json, attention.json; optionally baseline/).
        out: `.csv` or `.parquet`.
    Returns:
        the path written. Columns: see the module docstring.
    """
    out = _check_suffix(out, EXPORT_SUFFIXES, "export")
    models = {name: _attention_records(run) for name, run in run_models(run_dir).items()}
    import pandas as pd

    main = list(models.values())[-1]
    rows = [row for review_id, record in main.items() for row in _word_rows(review_id, record, models)]
    return _write_table(pd.DataFrame(rows), out)


def _word_rows(review_id: str, record: dict[str, Any], models: dict[str, dict[str, dict]]) -> list[dict[str, Any]]:
    """One text's rows: its words with human and every model's attention and probability."""
    words = record["words"]
    per_model = {}
    for name, records in models.items():
        other = records.get(review_id)
        if other is None or other["words"] != words:
            raise DataFormatError(f"review {review_id!r} is missing from, or has other words in, the {name!r} "
                                  "run: the models of one run folder share a test set. Run the run again.")
        per_model[name] = other
    votes = [sum(column) for column in zip(*record.get("maps") or [[0] * len(words)])]
    rows = []
    for index, word in enumerate(words):
        row = {"review_id": review_id, "word_index": index, "word": word, "label": int(record["label"]),
               "length_group": record.get("length_group"), "human_attention": float(record["human"][index]),
               "human_votes": int(votes[index])}
        row.update({f"{name}_attention": float(r["machine"][index]) for name, r in per_model.items()})
        row.update({f"{name}_prob": float(r["prob"]) for name, r in per_model.items()})
        rows.append(row)
    return rows


# ---------------------------------------------------------------------- predict
def predict_texts(
    run_dir: str | Path, texts_file: str | Path, out: str | Path, batch_size: int = 64, device: str = "auto",
    precision: str = "fp32",
) -> Path:
    """Probability of label 1 and last-layer word attention of new texts, from a run's saved model.

    Args:
        run_dir: a finished run folder with `model/` (trained with `save_model: true`).
        texts_file: CSV or JSONL with `text_id` and `text` (other columns are ignored).
        out: `.jsonl` (one object per text), `.csv` or `.parquet` (one row per word).
        batch_size: texts per forward pass; device: `auto`, `cpu` or `cuda`.
        precision: `fp32` (the run's test evaluation's arithmetic on a CPU), `bf16` or `auto`
            (bf16 where it is native; what `humal-nb predict` defaults to).
    Returns:
        the path written.
    """
    from humal_nb.method.inference import check_precision, resolve_device

    out = _check_suffix(out, PREDICT_SUFFIXES, "predictions")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size={batch_size!r} must be a whole number of texts >= 1.")
    check_precision(precision, resolve_device(device))
    run = Run.open(run_dir)
    run.require_model()  # before the texts are read
    texts = read_texts(texts_file)
    predictions = run.predict([t["text"] for t in texts], batch_size=batch_size, device=device, precision=precision)
    results = [{"prob": float(p), "attention": [float(v) for v in attention], "truncated": truncated}
               for p, attention, truncated in zip(predictions.probs, predictions.attention, predictions.truncated)]
    return _write_predictions(texts, results, out)


def read_texts(path: str | Path) -> list[dict[str, str]]:
    """The `text_id`, `text` pairs of a CSV or JSONL file, in file order; ids must be distinct."""
    from humal_nb.data.common import is_missing
    from humal_nb.data.generic import read_text_records

    path = Path(path)
    records, kind = read_text_records(path, "text_id and text")
    texts, row_of = [], {}
    for row, record in records:
        where = f"{path.name}, {kind} {row}"
        text, text_id = record.get("text"), record.get("text_id")
        if is_missing(text_id):
            raise DataFormatError(f"{where}: text_id is missing. Give every text an id.")
        if not isinstance(text, str) or not text.split():
            raise DataFormatError(f"{where}: text is empty or missing. Fix or remove that row.")
        text_id = str(text_id).strip()
        if row_of.setdefault(text_id, row) != row:
            raise DataFormatError(f"{where}: text_id {text_id!r} is also the id of {kind} {row_of[text_id]}. "
                                  "Give every text its own text_id.")
        texts.append({"text_id": text_id, "text": text})
    return texts


def _write_predictions(texts: list[dict[str, str]], results: list[dict], out: Path) -> Path:
    if out.suffix.lower() == ".jsonl":
        lines = [json.dumps({**t, "prob": r["prob"], "truncated": r["truncated"], "words": t["text"].split(),
                             "attention": r["attention"]}, ensure_ascii=False) for t, r in zip(texts, results)]
        runs.atomic_write_text(out, "\n".join(lines) + "\n")
        return out
    import pandas as pd

    rows = [
        {"text_id": t["text_id"], "word_index": i, "word": word, "prob": r["prob"], "truncated": r["truncated"],
         "attention": r["attention"][i]}
        for t, r in zip(texts, results) for i, word in enumerate(t["text"].split())
    ]
    return _write_table(pd.DataFrame(rows), out)


# ---------------------------------------------------------------------- command line
