"""Human attention data: Yelp-HAT's CSV files, the generic JSONL/CSV format, train/test splits.

Every loader returns one row per review (text) with the columns in `REVIEW_COLUMNS`:

- `review_id` (str): Yelp-HAT: `<file stem>:<1-based data row of its first map>`;
  generic: `text_id` as a string.
- `text`, `label` (int 0/1), `words` (`text.split()`),
- `maps`: one binary list over `words` per kept annotator,
- `human_attention`: the kept maps summed (or the first kept map), normalized to sum 1,
- `length_group`: see `LENGTH_GROUPS`, `source`: the file name.

`df.attrs["diagnostics"]` says how many maps and reviews were read, kept and dropped and why.
Bad input raises `DataFormatError` naming the file, the row and what to do.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path
from statistics import mean, median
from typing import Any

import numpy as np
import pandas as pd

from humal_nb.errors import DataFormatError, DataNotFoundError, NotEnoughDataError, ParameterError
from humal_nb.names import AGREEMENTS, HIGHLIGHT_FORMATS, HUMAN_ATTENTION_MODES, LABEL_BY, LENGTH_GROUPS
from humal_nb.paths import YELP_HAT_URL, resolve_data_dir

__all__ = [
    "AGREEMENTS",
    "HUMAN_ATTENTION_MODES",
    "LABEL_BY",
    "LENGTH_GROUPS",
    "REVIEW_COLUMNS",
    "YELP_COLUMNS",
    "DataFormatError",
    "DataNotFoundError",
    "NotEnoughDataError",
    "data_info",
    "format_data_info",
    "length_group_of",
    "load_generic",
    "load_yelp_hat",
    "make_split",
    "minority_count",
]

REVIEW_COLUMNS = ("review_id", "text", "label", "words", "maps", "human_attention", "length_group", "source")
YELP_COLUMNS = ("Input.label", "Input.text", "Answer.Q1Answer", "Answer.html_output")
_ANSWERS = {"yes": 1, "no": 0}  # `idk` and empty answers never match a label


def length_group_of(n_words: int) -> str:
    """The length group (`LENGTH_GROUPS`) of a text with `n_words` whitespace words."""
    if n_words < 0:
        raise ValueError(f"n_words must be >= 0, got {n_words}")
    for name, (_, high) in LENGTH_GROUPS.items():
        if high is None or n_words <= high:
            return name
    raise AssertionError("unreachable: the last length group has no upper bound")


# --------------------------------------------------------------------------- shared helpers


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ParameterError(f"{name}={value!r} is not one of {', '.join(choices)}.")


def _where(path: Path, row: int, line: int | None = None, kind: str = "data row") -> str:
    """`file, data row N (line L)`: the place named in error messages."""
    place = f"{path.name}, {kind} {row}"
    if line is not None:
        place += f" (line {line})"
    return place


def _csv_line_of_row(path: Path, row: int) -> int | None:
    """The 1-based line where 1-based data row `row` of a CSV file starts (cells may span lines)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            start = 1
            for index, _ in enumerate(reader):
                if index == row:  # index 0 is the header
                    return start
                start = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    """Read every cell of a CSV file as a string ('' for empty), or raise DataFormatError."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFormatError(
            f"{path.name}: not UTF-8 text ({err.reason} at byte {err.start}). Save the file as UTF-8 CSV."
        ) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        raise DataFormatError(
            f"{path.name}: cannot be read as CSV ({str(err).strip()}). "
            "Check that it is a comma-separated file with a header row and quoted cells."
        ) from err
    except OSError as err:
        raise DataFormatError(f"{path.name}: cannot be read ({err}).") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _require_columns(path: Path, present: Any, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise DataFormatError(
            f"{path.name}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(str(c)) for c in present) or 'none'}. {what}"
        )


def _normalize(vector: list[int]) -> list[float]:
    total = sum(vector)
    return [v / total for v in vector]


def _human_attention(maps: list[tuple[int, ...]], mode: str) -> list[float] | None:
    """Summed (or first) kept map normalized to sum 1; None when it highlights nothing."""
    if not maps:
        return None
    if mode == "first":
        counts = list(maps[0])
    else:
        counts = [sum(column) for column in zip(*maps)]
    if sum(counts) == 0:
        return None
    return _normalize(counts)


def _parse_label(value: Any) -> int | None:
    """0/1 from an int, float or string cell; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value) if value in (0, 1) else None
    if isinstance(value, float | np.floating):
        return int(value) if value in (0.0, 1.0) else None
    if isinstance(value, str):
        text = value.strip()
        if text in ("0", "1"):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number in (0.0, 1.0) else None
    return None


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _frame(rows: list[dict[str, Any]], diagnostics: dict[str, Any]) -> pd.DataFrame:
    """A fresh review frame (new lists every call, so callers cannot reach any cache)."""

    def text(column: str) -> pd.Series:
        return pd.Series([r[column] for r in rows], dtype=str)

    def lists(values: list[Any]) -> pd.Series:
        return pd.Series(values, dtype=object)

    frame = pd.DataFrame(
        {
            "review_id": text("review_id"),
            "text": text("text"),
            "label": pd.Series([r["label"] for r in rows], dtype=np.int64),
            "words": lists([list(r["words"]) for r in rows]),
            "maps": lists([[list(m) for m in r["maps"]] for r in rows]),
            "human_attention": lists([list(r["human_attention"]) for r in rows]),
            "length_group": text("length_group"),
            "source": text("source"),
        },
        columns=list(REVIEW_COLUMNS),
    )
    frame.attrs["diagnostics"] = dict(diagnostics)
    return frame


# --------------------------------------------------------------------------- Yelp-HAT


class _SpanParser(HTMLParser):
    """Collects `(active, text)` for each top-level `<span>` of an attention map.

    Tags inside a span (some maps carry `<i class="chrome-extension-mutihighlight ...">`
    from an annotator's browser extension) only contribute their text; only the span's own
    `class="active"` marks a highlight.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.spans: list[tuple[bool, str]] = []
        self.problem: str | None = None
        self._open: tuple[bool, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "span":
            return
        if self._open is not None:
            self.problem = self.problem or f"a <span> nested inside <span> number {len(self.spans) + 1}"
            return
        classes = (dict(attrs).get("class") or "").split()
        self._open = ("active" in classes, [])

    def handle_endtag(self, tag: str) -> None:
        if tag != "span":
            return
        if self._open is None:
            self.problem = self.problem or f"a </span> without <span> after span {len(self.spans)}"
            return
        active, parts = self._open
        self.spans.append((active, "".join(parts)))
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)
        elif data.strip():
            self.problem = self.problem or f"text {data.strip()[:30]!r} outside any <span>"

    def close(self) -> None:
        super().close()
        if self._open is not None:
            self.problem = self.problem or "an unclosed <span> at the end"


def _parse_html_map(html: str, words: list[str]) -> tuple[tuple[int, ...] | None, str | None]:
    """Binary map over `words` from one `Answer.html_output`, or (None, what is wrong)."""
    if not html.strip():
        return None, "Answer.html_output is empty"
    parser = _SpanParser()
    parser.feed(html)
    parser.close()
    if parser.problem:
        return None, f"Answer.html_output is malformed: {parser.problem}"
    spans = parser.spans
    n_words = len(words)
    if spans and not spans[-1][1].strip():
        spans = spans[:-1]  # the trailing empty <span></span> (no word is empty)
    if len(spans) != n_words:
        trailing = " (plus the trailing empty one)" if len(spans) < len(parser.spans) else ""
        return None, (
            f"the map has {len(spans)} word <span> elements{trailing} but the text has {n_words} words; "
            "expected one <span> per word (then an optional trailing empty <span></span>)"
        )
    for index, ((_, span_text), word) in enumerate(zip(spans, words), start=1):
        if span_text.strip() != word:
            return None, (
                f"<span> number {index} holds {span_text.strip()!r} but word {index} of the text "
                f"is {word!r}: the map does not belong to this text"
            )
    return tuple(int(active) for active, _ in spans), None


@dataclass(frozen=True)
class _YelpMap:
    """One parsed row of a Yelp-HAT CSV file."""

    row: int  # 1-based data row
    label: int
    text: str
    answer: str  # lower-cased, stripped `Answer.Q1Answer`
    map: tuple[int, ...]

    @property
    def matches(self) -> bool:
        return _ANSWERS.get(self.answer) == self.label


def _yelp_error(path: Path, row: int, problem: str, todo: str) -> DataFormatError:
    return DataFormatError(f"{_where(path, row, _csv_line_of_row(path, row))}: {problem}. {todo}")


@functools.lru_cache(maxsize=32)
def _parse_yelp_file(path_str: str, mtime_ns: int, size: int) -> tuple[_YelpMap, ...]:
    """Every map of one Yelp-HAT CSV file (cached by path, mtime and size)."""
    path = Path(path_str)
    frame = _read_csv(path)
    _require_columns(
        path,
        frame.columns,
        YELP_COLUMNS,
        f"A Yelp-HAT file needs one row per annotator map with these columns (see {YELP_HAT_URL}).",
    )
    fix = "Fix or remove that row."
    maps: list[_YelpMap] = []
    for index, (label_cell, text, answer, html) in enumerate(zip(*(frame[c].tolist() for c in YELP_COLUMNS)), start=1):
        label = _parse_label(label_cell)
        if label is None:
            raise _yelp_error(path, index, f"Input.label is {label_cell.strip()!r}, not 0 or 1", fix)
        words = text.split()
        if not words:
            raise _yelp_error(path, index, "Input.text is empty", fix)
        binary, problem = _parse_html_map(html, words)
        if problem:
            raise _yelp_error(path, index, problem, fix)
        maps.append(_YelpMap(index, label, text, answer.strip().lower(), binary))
    return tuple(maps)


def _yelp_files(data_dir: str | os.PathLike | None) -> tuple[Path, list[Path]]:
    directory = resolve_data_dir(data_dir)
    files = sorted(p for p in directory.glob("*.csv") if p.is_file())
    if not files:
        raise DataNotFoundError(
            f"No *.csv files in {str(directory)!r}. Put the Yelp-HAT CSV files (ham_part*.csv, "
            f"published at {YELP_HAT_URL}) there, or point data_dir / $HUMAL_DATA_DIR elsewhere."
        )
    return directory.resolve(), files


def _file_keys(files: list[Path]) -> tuple[tuple[str, int, int], ...]:
    keys = []
    for path in files:
        stat = path.stat()
        keys.append((str(path.resolve()), stat.st_mtime_ns, stat.st_size))
    return tuple(keys)


def _yelp_reviews(file_keys: tuple[tuple[str, int, int], ...]) -> list[tuple[Path, list[_YelpMap]]]:
    """Maps grouped into reviews by (file, text), in file order then first appearance."""
    reviews: list[tuple[Path, list[_YelpMap]]] = []
    for key in file_keys:
        path = Path(key[0])
        groups: dict[str, list[_YelpMap]] = {}
        for item in _parse_yelp_file(*key):
            groups.setdefault(item.text, []).append(item)
        for group in groups.values():
            labels = {m.label for m in group}
            if len(labels) > 1:
                rows = ", ".join(f"{m.row} ({m.label})" for m in group)
                raise _yelp_error(
                    path,
                    group[0].row,
                    f"the same review text has different Input.label values in data rows {rows}",
                    "Give every map of a review the same label.",
                )
            reviews.append((path, group))
    return reviews


def _agreement_keeps(group: list[_YelpMap], agreement: str) -> bool:
    matching = sum(m.matches for m in group)
    if agreement == "all":
        return matching == len(group)
    if agreement == "majority":
        return 2 * matching > len(group)
    return matching >= 1


@functools.lru_cache(maxsize=16)
def _load_yelp_cached(
    directory: str, file_keys: tuple[tuple[str, int, int], ...], agreement: str, human_attention: str
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    counts = Counter()
    for path, group in _yelp_reviews(file_keys):
        counts["maps"] += len(group)
        counts["reviews"] += 1
        if not _agreement_keeps(group, agreement):
            counts["dropped_agreement"] += 1
            continue
        kept = [m for m in group if m.matches]
        attention = _human_attention([m.map for m in kept], human_attention)
        if attention is None:
            counts["dropped_no_highlight"] += 1
            continue
        words = tuple(group[0].text.split())
        counts["maps_kept"] += len(kept)
        rows.append(
            {
                "review_id": f"{path.stem}:{group[0].row}",
                "text": group[0].text,
                "label": group[0].label,
                "words": words,
                "maps": tuple(m.map for m in kept),
                "human_attention": tuple(attention),
                "length_group": length_group_of(len(words)),
                "source": path.name,
            }
        )
    diagnostics = {
        "data_dir": directory,
        "files": [Path(k[0]).name for k in file_keys],
        "agreement": agreement,
        "human_attention": human_attention,
        "maps": counts["maps"],
        "reviews": counts["reviews"],
        "kept": len(rows),
        "maps_kept": counts["maps_kept"],
        "dropped_agreement": counts["dropped_agreement"],
        "dropped_no_highlight": counts["dropped_no_highlight"],
    }
    return tuple(rows), diagnostics


def load_yelp_hat(
    data_dir: str | os.PathLike | None = None, agreement: str = "majority", human_attention: str = "sum"
) -> pd.DataFrame:
    """Yelp-HAT as one row per review (`REVIEW_COLUMNS`), keeping annotators who agree with the label.

    `agreement`: `all` keeps reviews where every annotator's answer matches the label,
    `majority` where strictly more than half do, `any` where at least one does; only the
    matching annotators' maps are kept (`idk` never matches). `human_attention`: `sum` of
    the kept maps or the `first` kept map, normalized to sum 1. A review whose chosen
    vector highlights nothing is dropped and counted in `attrs["diagnostics"]`
    (`dropped_no_highlight`; 0 on the published files, where every map highlights a word).
    Parsed files are cached by path, modification time and size; each call returns a
    fresh frame.
    """
    _check_choice("agreement", agreement, AGREEMENTS)
    _check_choice("human_attention", human_attention, HUMAN_ATTENTION_MODES)
    directory, files = _yelp_files(data_dir)
    rows, diagnostics = _load_yelp_cached(str(directory), _file_keys(files), agreement, human_attention)
    return _frame(list(rows), diagnostics)


# --------------------------------------------------------------------------- generic format

_GENERIC_REQUIRED = ("text_id", "text", "highlights")


def _read_generic_records(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], str, set[str]]:
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


def load_generic(
    path: str | os.PathLike,
    label_by: str = "majority",
    min_highlight: float = 0.0,
    human_attention: str = "sum",
    agreement: str = "majority",
    highlight_format: str = "auto",
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
    _check_choice("label_by", label_by, LABEL_BY)
    _check_choice("human_attention", human_attention, HUMAN_ATTENTION_MODES)
    _check_choice("agreement", agreement, AGREEMENTS)
    _check_choice("highlight_format", highlight_format, HIGHLIGHT_FORMATS)
    if (
        isinstance(min_highlight, bool)
        or not isinstance(min_highlight, int | float)
        or not (0.0 <= min_highlight < 1.0)
    ):
        raise ParameterError(f"min_highlight={min_highlight!r} must be a share in [0, 1), e.g. 0.02.")
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"data file {str(path)!r} does not exist. Pass the path of a .jsonl or .csv file.")
    records, kind, columns = _read_generic_records(path)
    if not records:
        raise DataFormatError(f"{path.name}: no rows. Write one row per (text, annotator).")
    required = list(_GENERIC_REQUIRED)
    if label_by == "self":
        required.append("self_label")
    elif "annotator_label" not in columns:
        required.append("label")
    use_label_column = label_by == "majority" and "label" in columns
    _require_columns(
        path,
        sorted(columns),
        tuple(required),
        "The generic format has one row per (text, annotator): text_id, text, label, highlights "
        "(word indices or a 0/1 list over text.split()), optional annotator_label and self_label.",
    )

    def fail(row: int, problem: str, todo: str = "Fix or remove that row.") -> DataFormatError:
        line = _csv_line_of_row(path, row) if kind == "data row" else None
        return DataFormatError(f"{_where(path, row, line, kind)}: {problem}. {todo}")

    def label_cell(record: dict[str, Any], row: int, column: str, optional: bool) -> int | None:
        value = record.get(column)
        if _is_missing(value):
            if optional:
                return None
            raise fail(row, f"{column} is missing")
        label = _parse_label(value)
        if label is None:
            raise fail(row, f"{column} is {str(value).strip()!r}, not 0 or 1")
        return label

    if highlight_format == "auto":
        highlight_format = _file_highlight_format(records)
    encoding = {"binary": "0/1 lists over text.split()", "indices": "word indices"}

    texts: dict[str, _GenericText] = {}
    id_of_text: dict[str, str] = {}
    for row, record in records:
        raw_id = record.get("text_id")
        if _is_missing(raw_id):
            raise fail(row, "text_id is missing")
        text_id = str(raw_id).strip()
        text = record.get("text")
        if not isinstance(text, str) or not text.split():
            raise fail(row, "text is empty or missing")
        words = text.split()
        label = label_cell(record, row, "label", optional=not use_label_column) if use_label_column else None
        self_label = label_cell(record, row, "self_label", optional=False) if label_by == "self" else None
        annotator_label = label_cell(record, row, "annotator_label", optional=True)
        items, problem = _highlight_items(record.get("highlights"))
        binary = None
        if items is not None:
            binary, problem = _highlights_map(items, len(words), highlight_format)
        if problem:
            raise fail(row, f"{problem} (highlights read as {encoding[highlight_format]})")
        entry = texts.get(text_id)
        if entry is None:
            other = id_of_text.setdefault(text, text_id)
            if other != text_id:
                # The same text under two ids could land in both the training and the test set.
                raise fail(
                    row,
                    f"text_id {text_id!r} has the same text as text_id {other!r} "
                    f"({kind} {texts[other].row})",
                    "Give one text_id to one text: put every annotator's row of that text "
                    "under the same text_id.",
                )
            entry = texts[text_id] = _GenericText(text_id, text, row, label, self_label, [])
        elif entry.text != text:
            raise fail(
                row,
                f"text_id {text_id!r} has a different text than at {kind} {entry.row}",
                "Give every row of a text_id the same text (or distinct text_ids to distinct texts).",
            )
        elif entry.label != label or entry.self_label != self_label:
            column = "label" if entry.label != label else "self_label"
            raise fail(
                row,
                f"text_id {text_id!r} has {column} {label if column == 'label' else self_label} here "
                f"but {entry.label if column == 'label' else entry.self_label} at {kind} {entry.row}",
                f"Give every row of a text_id the same {column}.",
            )
        entry.maps.append(_GenericMap(row, binary, annotator_label))

    counts = Counter()
    rows: list[dict[str, Any]] = []
    for entry in texts.values():
        counts["maps"] += len(entry.maps)
        if label_by == "self":
            label = entry.self_label
        elif use_label_column:
            label = entry.label
        else:
            votes = Counter(m.annotator_label for m in entry.maps if m.annotator_label is not None)
            label = None
            for candidate in (0, 1):
                if 2 * votes[candidate] > sum(votes.values()):
                    label = candidate
            if label is None:
                counts["dropped_no_majority_label"] += 1
                continue
        matching = [m for m in entry.maps if m.annotator_label is None or m.annotator_label == label]
        n_match, n_all = len(matching), len(entry.maps)
        keeps = {"all": n_match == n_all, "majority": 2 * n_match > n_all, "any": n_match >= 1}[agreement]
        if not keeps:
            counts["dropped_agreement"] += 1
            continue
        n_words = len(entry.text.split())
        kept = [m for m in matching if sum(m.map) / n_words >= min_highlight - 1e-12]
        counts["maps_dropped_min_highlight"] += len(matching) - len(kept)
        attention = _human_attention([m.map for m in kept], human_attention)
        if attention is None:
            counts["dropped_no_highlight"] += 1
            continue
        counts["maps_kept"] += len(kept)
        rows.append(
            {
                "review_id": entry.text_id,
                "text": entry.text,
                "label": label,
                "words": entry.text.split(),
                "maps": [m.map for m in kept],
                "human_attention": attention,
                "length_group": length_group_of(n_words),
                "source": path.name,
            }
        )
    diagnostics = {
        "path": str(path),
        "label_by": label_by,
        "agreement": agreement,
        "min_highlight": min_highlight,
        "human_attention": human_attention,
        "highlight_format": highlight_format,
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


# --------------------------------------------------------------------------- train/test split


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}.")
    return int(value)


def minority_count(data_size: int, imbalance_ratio: float) -> int:
    """Minority reviews in a training subset: `data_size * imbalance_ratio` rounded half up,
    kept within 1 .. data_size - 1 so both classes are present (250 x 0.05 = 12.5 -> 13)."""
    exact = Decimal(str(data_size)) * Decimal(str(imbalance_ratio))
    rounded = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(max(rounded, 1), data_size - 1)


def _not_enough(
    what: str,
    cell: dict[str, Any],
    needed: dict[int, int],
    available: dict[int, int],
    pool_note: str,
    todo: str,
) -> NotEnoughDataError:
    names = {1: "positive (label 1)", 0: "negative (label 0)"}
    need = " and ".join(f"{needed[c]} {names[c]}" for c in (1, 0))
    have = " and ".join(f"{available[c]} {names[c]}" for c in (1, 0))
    cell_text = ", ".join(f"{k}={v}" for k, v in cell.items())
    short = ", ".join(f"{needed[c] - available[c]} {names[c].split()[0]}" for c in (1, 0) if needed[c] > available[c])
    err = NotEnoughDataError(
        f"not enough data for cell ({cell_text}): the {what} needs {need} reviews, "
        f"but {pool_note} has {have} ({short} short). {todo}"
    )
    err.needed = dict(needed)
    err.available = dict(available)
    err.cell = dict(cell)
    err.part = what
    return err


def make_split(
    df: pd.DataFrame,
    data_size: int,
    imbalance_ratio: float,
    minority_label: int = 1,
    n_test: int = 200,
    seed: int = 0,
    test_seed: int = 0,
    bootstrap: int = 0,
    length_group: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train_df, test_df) for one experiment cell (paper sec. IV).

    The test set is `n_test` reviews, half of each class, drawn with
    `default_rng(test_seed)` from `df` (restricted to `length_group` when given): the same
    for every seed, bootstrap, size and ratio. The training subset comes from the rest:
    `minority_count(data_size, imbalance_ratio)` reviews of `minority_label` and the others
    of the other class, drawn and shuffled with `default_rng([seed, bootstrap])`.
    Raises `NotEnoughDataError` (with `needed`/`available` per label) when the pool is short.
    """
    data_size = _check_int("data_size", data_size, 2)
    if (
        isinstance(imbalance_ratio, bool)
        or not isinstance(imbalance_ratio, int | float | np.floating)
        or not 0.0 < float(imbalance_ratio) < 1.0
    ):
        raise ParameterError(f"imbalance_ratio={imbalance_ratio!r} must be a share strictly between 0 and 1.")
    if isinstance(minority_label, bool) or minority_label not in (0, 1):
        raise ParameterError(f"minority_label={minority_label!r} must be 0 or 1.")
    minority_label = int(minority_label)
    n_test = _check_int("n_test", n_test, 2)
    if n_test % 2:
        raise ParameterError(f"n_test={n_test} must be even (half of the test set per class).")
    seed = _check_int("seed", seed, 0)
    test_seed = _check_int("test_seed", test_seed, 0)
    bootstrap = _check_int("bootstrap", bootstrap, 0)
    missing = [c for c in ("label", "review_id") if c not in df.columns]
    if missing:
        raise ParameterError(f"make_split needs a review frame with columns {missing}; use load_yelp_hat.")

    pool = df
    if length_group:
        if length_group not in LENGTH_GROUPS:
            raise ParameterError(f"length_group={length_group!r} is not one of {', '.join(LENGTH_GROUPS)}.")
        if "length_group" not in df.columns:
            raise ParameterError("length_group was given but the frame has no 'length_group' column.")
        pool = df[df["length_group"] == length_group]
    pool = pool.reset_index(drop=True)
    labels = pool["label"].to_numpy()
    cell = {
        "data_size": data_size,
        "imbalance_ratio": imbalance_ratio,
        "minority_label": minority_label,
        "length_group": length_group or "all",
    }
    pool_name = f"the pool ({length_group or 'all lengths'}, {len(pool)} reviews)"

    by_class = {c: np.flatnonzero(labels == c) for c in (0, 1)}
    test_needed = {c: n_test // 2 for c in (0, 1)}
    test_available = {c: len(by_class[c]) for c in (0, 1)}
    if any(test_needed[c] > test_available[c] for c in (0, 1)):
        raise _not_enough(
            f"test set (n_test={n_test})",
            cell,
            test_needed,
            test_available,
            pool_name,
            "Use a smaller n_test, another length group or a looser agreement (e.g. 'any').",
        )
    test_rng = np.random.default_rng(test_seed)
    test_idx = np.concatenate([test_rng.choice(by_class[c], n_test // 2, replace=False) for c in (0, 1)])
    test_idx = test_rng.permutation(test_idx)

    in_test = np.zeros(len(pool), dtype=bool)
    in_test[test_idx] = True
    rest = {c: np.flatnonzero((labels == c) & ~in_test) for c in (0, 1)}
    n_min = minority_count(data_size, float(imbalance_ratio))
    needed = {minority_label: n_min, 1 - minority_label: data_size - n_min}
    available = {c: len(rest[c]) for c in (0, 1)}
    if any(needed[c] > available[c] for c in (0, 1)):
        raise _not_enough(
            "training subset",
            cell,
            {c: needed[c] for c in (0, 1)},
            available,
            f"{pool_name} without the {n_test} test reviews",
            "Choose a smaller data_size or another imbalance_ratio (a grid records this cell as "
            "not enough data), or a looser agreement (e.g. 'any').",
        )
    rng = np.random.default_rng([seed, bootstrap])
    train_idx = np.concatenate(
        [rng.choice(rest[c], needed[c], replace=False) for c in (minority_label, 1 - minority_label)]
    )
    train_idx = rng.permutation(train_idx)
    train = pool.iloc[train_idx].reset_index(drop=True)
    test = pool.iloc[test_idx].reset_index(drop=True)
    return train, test


# --------------------------------------------------------------------------- data facts


def data_info(data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Facts of a Yelp-HAT directory: maps, reviews, agreement, labels, length groups, highlight share."""
    directory, files = _yelp_files(data_dir)
    file_keys = _file_keys(files)
    reviews = _yelp_reviews(file_keys)
    all_maps = [m for _, group in reviews for m in group]
    shares = [sum(m.map) / len(m.map) for m in all_maps]
    per_file: dict[str, dict[str, Any]] = {}
    for path, group in reviews:
        entry = per_file.setdefault(
            path.name, {"maps": 0, "reviews": 0, "positive": 0, "negative": 0, "min_words": None, "max_words": 0}
        )
        n_words = len(group[0].map)
        entry["maps"] += len(group)
        entry["reviews"] += 1
        entry["positive" if group[0].label == 1 else "negative"] += 1
        entry["min_words"] = n_words if entry["min_words"] is None else min(entry["min_words"], n_words)
        entry["max_words"] = max(entry["max_words"], n_words)
    groups: dict[str, dict[str, Any]] = {}
    for _, group in reviews:
        n_words = len(group[0].map)
        entry = groups.setdefault(length_group_of(n_words), {"reviews": 0, "min_words": n_words, "max_words": n_words})
        entry["reviews"] += 1
        entry["min_words"] = min(entry["min_words"], n_words)
        entry["max_words"] = max(entry["max_words"], n_words)
    answers = Counter(m.answer or "(empty)" for m in all_maps)
    return {
        "data_dir": str(directory),
        "files": per_file,
        "maps": len(all_maps),
        "reviews": len(reviews),
        "maps_per_review": dict(sorted(Counter(len(g) for _, g in reviews).items())),
        "answers": dict(answers.most_common()),
        "agreement": {a: sum(_agreement_keeps(g, a) for _, g in reviews) for a in AGREEMENTS},
        "labels": {
            "positive": sum(g[0].label == 1 for _, g in reviews),
            "negative": sum(g[0].label == 0 for _, g in reviews),
        },
        "length_groups": {name: groups[name] for name in LENGTH_GROUPS if name in groups},
        "highlight_share": {"mean": mean(shares), "median": median(shares)},
        "maps_highlighting_nothing": sum(s == 0 for s in shares),
    }


def _group_range(name: str) -> str:
    low, high = LENGTH_GROUPS[name]
    return f"<= {high} words" if low == 0 else f"{low}-{high} words" if high else f">= {low} words"


def format_data_info(info: dict[str, Any]) -> str:
    """`data_info` as the text `humal-nb data-info` prints."""
    agreement = info["agreement"]
    lines = [
        f"Yelp-HAT data in {info['data_dir']}",
        f"maps (rows):      {info['maps']:,}",
        f"reviews:          {info['reviews']:,}",
        "reviews by maps per review: "
        + ", ".join(
            f"{k} map{'s' * (k != 1)}: {v:,}" for k, v in sorted(info["maps_per_review"].items(), key=lambda kv: -kv[1])
        ),
        "reviews kept by agreement (all / majority / any): "
        f"{agreement['all']:,} / {agreement['majority']:,} / {agreement['any']:,}",
        f"labels:           {info['labels']['positive']:,} positive, {info['labels']['negative']:,} negative",
        "length groups:",
    ]
    for name, group in info["length_groups"].items():
        lines.append(
            f"  {name:<9} {group['reviews']:>6,} reviews, {group['min_words']}-{group['max_words']} words"
            f" (group: {_group_range(name)})"
        )
    share = info["highlight_share"]
    lines.append(
        f"highlighted words per map: mean {share['mean']:.1%}, median {share['median']:.1%}"
        f" ({info['maps_highlighting_nothing']:,} maps highlight nothing)"
    )
    lines.append("annotator answers: " + ", ".join(f"{k}: {v:,}" for k, v in info["answers"].items()))
    lines.append("files:")
    for name, entry in info["files"].items():
        lines.append(
            f"  {name}: {entry['reviews']:,} reviews ({entry['positive']:,} positive, "
            f"{entry['negative']:,} negative), {entry['maps']:,} maps, "
            f"{entry['min_words']}-{entry['max_words']} words"
        )
    return "\n".join(lines)
