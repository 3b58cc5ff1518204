"""The generic human-attention format: JSONL or CSV, one row per text and annotator, read into
the same review frame as Yelp-HAT."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.core.names import AGREEMENTS, HIGHLIGHT_FORMATS, HUMAN_ATTENTION_MODES, LABEL_BY
from humal_nb.data.common import (
    _check_choice,
    _combine_maps,
    _csv_line_of_row,
    _frame,
    _read_csv,
    _require_columns,
    _where,
    agreement_keeps,
    combine_maps_mode,
    is_missing,
    length_group_of,
    parse_label,
)

_GENERIC_REQUIRED = ("text_id", "text", "highlights")


def read_text_records(path: str | os.PathLike, columns_hint: str) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """(row number, record) pairs and the row kind of a texts file (CSV or JSONL with `text_id`
    and `text`); a missing file, no rows or a missing column is refused, `columns_hint` saying
    which columns to write."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"texts file {str(path)!r} does not exist. Pass a .jsonl or .csv file "
                                f"with columns {columns_hint}.")
    records, kind, columns = read_generic_records(path)
    missing = [c for c in ("text_id", "text") if c not in columns]
    if missing or not records:
        raise DataFormatError(f"{path.name}: {'no rows' if not records else 'no column ' + ', '.join(missing)}. "
                              f"Write one row per text with {columns_hint}.")
    return records, kind


def read_generic_records(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], str, set[str]]:
    """(row number, record) pairs, the row kind ('line' or 'data row') and the columns seen."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = _read_csv(path)
        records = [(i, rec) for i, rec in enumerate(frame.to_dict(orient="records"), start=1)]
        return records, "data row", set(frame.columns)
    if suffix in (".jsonl", ".ndjson", ".json"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            raise DataFormatError(f"{path.name}: not UTF-8 text. Save the file as UTF-8.") from err
        except OSError as err:
            raise DataFormatError(f"{path.name}: cannot be read ({err}).") from err
        records = []
        columns: set[str] = set()
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataFormatError(
                    f"{path.name}, line {number}: not valid JSON ({err.msg} at column {err.colno}). "
                    "Write one JSON object per line."
                ) from err
            if not isinstance(record, dict):
                raise DataFormatError(
                    f"{path.name}, line {number}: a JSON {type(record).__name__}, not an object. "
                    "Write one JSON object per line."
                )
            columns.update(record)
            records.append((number, record))
        return records, "line", columns
    raise DataFormatError(
        f"{path.name}: unknown extension {path.suffix!r}. Use .jsonl (one JSON object per line) or .csv."
    )


def _highlight_items(value: Any) -> tuple[list[int] | None, str | None]:
    """The integers of one `highlights` cell (a list, or a JSON list in a string)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            return None, f"highlights {value[:40]!r} is not a JSON list"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, "highlights is missing"
    if not isinstance(value, list | tuple):
        return None, f"highlights is a {type(value).__name__} ({str(value)[:40]!r}), not a list"
    items: list[int] = []
    for item in value:
        if (isinstance(item, bool) or not isinstance(item, int | float)
                or (isinstance(item, float) and not math.isfinite(item)) or float(item) != int(item)):
            return None, f"highlights holds {item!r}, not an integer"
        items.append(int(item))
    return items, None


def _highlight_kind(items: list[int]) -> str | None:
    """'binary' for 0s and 1s with repeats, 'indices' for distinct values beyond 0/1, else None."""
    values = set(items)
    if values <= {0, 1} and len(values) < len(items):
        return "binary"
    if len(values) == len(items) and not values <= {0, 1}:
        return "indices"
    return None  # ambiguous ([], [0], [1], [0, 1]) or malformed either way


def _file_highlight_format(records: list[tuple[int, dict[str, Any]]]) -> str:
    """The encoding most rows of a file look like (ties and all-ambiguous files: indices)."""
    votes = Counter()
    for _, record in records:
        items, _problem = _highlight_items(record.get("highlights"))
        if items is not None:
            votes[_highlight_kind(items)] += 1
    return "binary" if votes["binary"] > votes["indices"] else "indices"


def _highlights_map(items: list[int], n_words: int, fmt: str) -> tuple[tuple[int, ...] | None, str | None]:
    """Binary map over `n_words` from word indices or a 0/1 list, or (None, what is wrong)."""
    if fmt == "binary":
        if len(items) != n_words:
            return None, f"the 0/1 highlights list has {len(items)} values but the text has {n_words} words"
        bad = sorted(set(items) - {0, 1})
        if bad:
            return None, f"the 0/1 highlights list holds {bad[0]}: every value must be 0 or 1"
        return tuple(items), None
    binary = [0] * n_words
    for index in items:
        if not 0 <= index < n_words:
            return None, f"word index {index} is out of range: the text has {n_words} words (0..{n_words - 1})"
        if binary[index]:
            return None, (
                f"highlights repeats word index {index}: word indices must be distinct "
                f"(a 0/1 list needs exactly one 0 or 1 per word, {n_words} values)"
            )
        binary[index] = 1
    return tuple(binary), None


@dataclass
class _GenericMap:
    row: int
    map: tuple[int, ...]
    annotator_label: int | None


@dataclass
class _GenericText:
    text_id: str
    text: str
    row: int
    label: int | None = None
    self_label: int | None = None
    maps: list[_GenericMap] | None = None


@dataclass
class _Reader:
    """How the rows of one generic file are read: its path, row kind, label rule and encoding."""

    path: Path
    kind: str  # "line" (JSONL) or "data row" (CSV)
    label_by: str
    use_label_column: bool
    highlight_format: str

    def fail(self, row: int, problem: str, todo: str = "Fix or remove that row.") -> DataFormatError:
        line = _csv_line_of_row(self.path, row) if self.kind == "data row" else None
        return DataFormatError(f"{_where(self.path, row, line, self.kind)}: {problem}. {todo}")

    def label_cell(self, record: dict[str, Any], row: int, column: str, optional: bool) -> int | None:
        value = record.get(column)
        if is_missing(value):
            if optional:
                return None
            raise self.fail(row, f"{column} is missing")
        label = parse_label(value)
        if label is None:
            raise self.fail(row, f"{column} is {str(value).strip()!r}, not 0 or 1")
        return label


_ENCODING = {"binary": "0/1 lists over text.split()", "indices": "word indices"}


def load_generic(
    path: str | os.PathLike,
    label_by: str = "majority",
    min_highlight: float = 0.0,
    combine_maps: str = "sum",
    agreement: str = "majority",
    highlight_format: str = "auto",
    *,
    human_attention: str | None = None,
) -> pd.DataFrame:
    """A generic JSONL/CSV file (one row per text and annotator) as one row per text (`REVIEW_COLUMNS`).

    Columns: `text_id`, `text`, `label`, `highlights` (word indices or a 0/1 list over
    `text.split()`; a JSON string in CSV), optional `annotator_label`, `self_label`.
    `label_by="majority"`: the text's label is `label` (if that column is absent, the strict
    majority of `annotator_label`; texts without one are dropped); `"self"`: `self_label`.
    Maps whose `annotator_label` differs from that label are not kept, and `agreement`
    (`all`/`majority`/`any`, as for Yelp-HAT) decides which texts stay; maps without an
    annotator label count as agreeing. Then maps highlighting fewer than `min_highlight`
    of the words are dropped (the paper's 2 % rule: 0.02), and texts left with no
    highlighted word are dropped (counted in `attrs["diagnostics"]`).
    `highlight_format`: `indices`, `binary`, or `auto`: the file's encoding is the one most
    rows look like (0s and 1s with repeats: 0/1 lists; distinct values beyond 1: indices;
    a tie or only ambiguous rows such as `[0]`: indices), then every row is read that way.
    """
    combine_maps = combine_maps_mode(combine_maps, human_attention)  # `human_attention=`: its old keyword
    _check_generic_arguments(label_by, min_highlight, combine_maps, agreement, highlight_format)
    path = Path(path)
    reader, records = _open_generic(path, label_by, highlight_format)
    texts = _group_texts(reader, records)
    counts: Counter = Counter()
    rows = []
    for entry in texts.values():
        row = _text_row(entry, reader, agreement, min_highlight, combine_maps, counts)
        if row is not None:
            rows.append(row)
    diagnostics = {
        "path": str(path),
        "label_by": label_by,
        "agreement": agreement,
        "min_highlight": min_highlight,
        "combine_maps": combine_maps,
        "highlight_format": reader.highlight_format,
        "maps": counts["maps"],
        "reviews": len(texts),
        "kept": len(rows),
        "maps_kept": counts["maps_kept"],
        "maps_dropped_min_highlight": counts["maps_dropped_min_highlight"],
        "dropped_agreement": counts["dropped_agreement"],
        "dropped_no_majority_label": counts["dropped_no_majority_label"],
        "dropped_no_highlight": counts["dropped_no_highlight"],
    }
    return _frame(rows, diagnostics)


def _check_generic_arguments(
    label_by: str, min_highlight: float, map_mode: str, agreement: str, highlight_format: str
) -> None:
    _check_choice("label_by", label_by, LABEL_BY)
    _check_choice("combine_maps", map_mode, HUMAN_ATTENTION_MODES)
    _check_choice("agreement", agreement, AGREEMENTS)
    _check_choice("highlight_format", highlight_format, HIGHLIGHT_FORMATS)
    if (
        isinstance(min_highlight, bool)
        or not isinstance(min_highlight, int | float)
        or not (0.0 <= min_highlight < 1.0)
    ):
        raise ParameterError(f"min_highlight={min_highlight!r} must be a share in [0, 1), e.g. 0.02.")


def _open_generic(path: Path, label_by: str, highlight_format: str) -> tuple[_Reader, list[tuple[int, dict]]]:
    """The file's records and how to read them; a missing file, no rows or a missing column is refused."""
    if not path.is_file():
        raise DataNotFoundError(f"data file {str(path)!r} does not exist. Pass the path of a .jsonl or .csv file.")
    records, kind, columns = read_generic_records(path)
    if not records:
        raise DataFormatError(f"{path.name}: no rows. Write one row per (text, annotator).")
    required = list(_GENERIC_REQUIRED)
    if label_by == "self":
        required.append("self_label")
    elif "annotator_label" not in columns:
        required.append("label")
    _require_columns(
        path,
        sorted(columns),
        tuple(required),
        "The generic format has one row per (text, annotator): text_id, text, label, highlights "
        "(word indices or a 0/1 list over text.split()), optional annotator_label and self_label.",
    )
    if highlight_format == "auto":
        highlight_format = _file_highlight_format(records)
    use_label_column = label_by == "majority" and "label" in columns
    return _Reader(path, kind, label_by, use_label_column, highlight_format), records


def _group_texts(reader: _Reader, records: list[tuple[int, dict[str, Any]]]) -> dict[str, _GenericText]:
    """The rows grouped by text_id, each row's map read; rows that contradict their text are refused."""
    texts: dict[str, _GenericText] = {}
    id_of_text: dict[str, str] = {}
    for row, record in records:
        raw_id = record.get("text_id")
        if is_missing(raw_id):
            raise reader.fail(row, "text_id is missing")
        text_id = str(raw_id).strip()
        text = record.get("text")
        if not isinstance(text, str) or not text.split():
            raise reader.fail(row, "text is empty or missing")
        label = reader.label_cell(record, row, "label", optional=False) if reader.use_label_column else None
        self_label = reader.label_cell(record, row, "self_label", optional=False) if reader.label_by == "self" else None
        annotator_label = reader.label_cell(record, row, "annotator_label", optional=True)
        binary = _row_map(reader, record, row, len(text.split()))
        entry = texts.get(text_id)
        if entry is None:
            _check_new_text(reader, row, text_id, text, id_of_text, texts)
            entry = texts[text_id] = _GenericText(text_id, text, row, label, self_label, [])
        else:
            _check_same_text(reader, row, entry, text, label, self_label)
        entry.maps.append(_GenericMap(row, binary, annotator_label))
    return texts


def _row_map(reader: _Reader, record: dict[str, Any], row: int, n_words: int) -> tuple[int, ...] | None:
    items, problem = _highlight_items(record.get("highlights"))
    binary = None
    if items is not None:
        binary, problem = _highlights_map(items, n_words, reader.highlight_format)
    if problem:
        raise reader.fail(row, f"{problem} (highlights read as {_ENCODING[reader.highlight_format]})")
    return binary


def _check_new_text(
    reader: _Reader, row: int, text_id: str, text: str, id_of_text: dict[str, str], texts: dict[str, _GenericText]
) -> None:
    other = id_of_text.setdefault(text, text_id)
    if other != text_id:
        # The same text under two ids could land in both the training and the test set.
        raise reader.fail(
            row,
            f"text_id {text_id!r} has the same text as text_id {other!r} ({reader.kind} {texts[other].row})",
            "Give one text_id to one text: put every annotator's row of that text under the same text_id.",
        )


def _check_same_text(
    reader: _Reader, row: int, entry: _GenericText, text: str, label: int | None, self_label: int | None
) -> None:
    if entry.text != text:
        raise reader.fail(
            row,
            f"text_id {entry.text_id!r} has a different text than at {reader.kind} {entry.row}",
            "Give every row of a text_id the same text (or distinct text_ids to distinct texts).",
        )
    if entry.label != label or entry.self_label != self_label:
        column = "label" if entry.label != label else "self_label"
        raise reader.fail(
            row,
            f"text_id {entry.text_id!r} has {column} {label if column == 'label' else self_label} here "
            f"but {entry.label if column == 'label' else entry.self_label} at {reader.kind} {entry.row}",
            f"Give every row of a text_id the same {column}.",
        )


def _text_label(entry: _GenericText, reader: _Reader) -> int | None:
    """The text's label: its self_label, its label column, or the strict majority of its annotators."""
    if reader.label_by == "self":
        return entry.self_label
    if reader.use_label_column:
        return entry.label
    votes = Counter(m.annotator_label for m in entry.maps if m.annotator_label is not None)
    for candidate in (0, 1):
        if 2 * votes[candidate] > sum(votes.values()):
            return candidate
    return None


def _text_row(
    entry: _GenericText, reader: _Reader, agreement: str, min_highlight: float, map_mode: str, counts: Counter
) -> dict[str, Any] | None:
    """One text's row of the review frame, or None (counted in `counts`) when it is dropped."""
    counts["maps"] += len(entry.maps)
    label = _text_label(entry, reader)
    if label is None:
        counts["dropped_no_majority_label"] += 1
        return None
    matching = [m for m in entry.maps if m.annotator_label is None or m.annotator_label == label]
    if not agreement_keeps(len(matching), len(entry.maps), agreement):
        counts["dropped_agreement"] += 1
        return None
    n_words = len(entry.text.split())
    kept = [m for m in matching if sum(m.map) / n_words >= min_highlight - 1e-12]
    counts["maps_dropped_min_highlight"] += len(matching) - len(kept)
    attention = _combine_maps([m.map for m in kept], map_mode)
    if attention is None:
        counts["dropped_no_highlight"] += 1
        return None
    counts["maps_kept"] += len(kept)
    return {
        "review_id": entry.text_id,
        "text": entry.text,
        "label": label,
        "words": entry.text.split(),
        "maps": [m.map for m in kept],
        "human_attention": attention,
        "length_group": length_group_of(n_words),
        "source": reader.path.name,
    }
