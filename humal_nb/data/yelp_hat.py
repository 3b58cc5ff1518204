"""Yelp-HAT (paper sec. IV): the CSV files of annotators' HTML maps, parsed into word maps,
grouped by review and kept by the annotators' agreement with the label."""

from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from humal_nb.core.errors import DataFormatError, DataNotFoundError
from humal_nb.core.names import AGREEMENTS, HUMAN_ATTENTION_MODES
from humal_nb.core.paths import YELP_HAT_URL, resolve_data_dir
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
    length_group_of,
    parse_label,
)

YELP_COLUMNS = ("Input.label", "Input.text", "Answer.Q1Answer", "Answer.html_output")
_ANSWERS = {"yes": 1, "no": 0}  # `idk` and empty answers never match a label

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
        label = parse_label(label_cell)
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

@functools.lru_cache(maxsize=16)
def _load_yelp_cached(
    directory: str, file_keys: tuple[tuple[str, int, int], ...], agreement: str, map_mode: str
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    counts = Counter()
    for path, group in _yelp_reviews(file_keys):
        counts["maps"] += len(group)
        counts["reviews"] += 1
        if not agreement_keeps(sum(m.matches for m in group), len(group), agreement):
            counts["dropped_agreement"] += 1
            continue
        kept = [m for m in group if m.matches]
        attention = _combine_maps([m.map for m in kept], map_mode)
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
        "combine_maps": map_mode,  # the parameter, as users write it
        "maps": counts["maps"],
        "reviews": counts["reviews"],
        "kept": len(rows),
        "maps_kept": counts["maps_kept"],
        "dropped_agreement": counts["dropped_agreement"],
        "dropped_no_highlight": counts["dropped_no_highlight"],
    }
    return tuple(rows), diagnostics


def load_yelp_hat(
    data_dir: str | os.PathLike | None = None,
    agreement: str = "majority",
    combine_maps: str = "sum",
    *,
    human_attention: str | None = None,
) -> pd.DataFrame:
    """Yelp-HAT as one row per review (`REVIEW_COLUMNS`), keeping annotators who agree with the label.

    `agreement`: `all` keeps reviews where every annotator's answer matches the label,
    `majority` where strictly more than half do, `any` where at least one does; only the
    matching annotators' maps are kept (`idk` never matches). `combine_maps`: `sum` of
    the kept maps or the `first` kept map, normalized to sum 1 (the `human_attention` column;
    `human_attention=` is the keyword's old name, still read). A review whose chosen
    vector highlights nothing is dropped and counted in `attrs["diagnostics"]`
    (`dropped_no_highlight`; 0 on the published files, where every map highlights a word).
    Parsed files are cached by path, modification time and size; each call returns a
    fresh frame.
    """
    _check_choice("agreement", agreement, AGREEMENTS)
    combine_maps = combine_maps_mode(combine_maps, human_attention)
    _check_choice("combine_maps", combine_maps, HUMAN_ATTENTION_MODES)
    directory, files = _yelp_files(data_dir)
    rows, diagnostics = _load_yelp_cached(str(directory), _file_keys(files), agreement, combine_maps)
    return _frame(list(rows), diagnostics)
