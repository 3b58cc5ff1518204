"""What every data format shares: the review frame, length groups, the annotators' agreement
rule, label and CSV reading, and errors that name the file and row."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humal_nb.core.errors import DataFormatError, ParameterError
from humal_nb.core.names import LENGTH_GROUPS

REVIEW_COLUMNS = ("review_id", "text", "label", "words", "maps", "human_attention", "length_group", "source")

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


def _combine_maps(maps: list[tuple[int, ...]], mode: str) -> list[float] | None:
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


def parse_label(value: Any) -> int | None:
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


def is_missing(value: Any) -> bool:
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



def agreement_keeps(matching: int, total: int, agreement: str) -> bool:
    """Whether a text whose `total` annotators include `matching` who agree with its label is
    kept: `all` of them agree, a strict `majority` does, or `any` one does (Yelp-HAT and the
    generic format alike)."""
    if agreement == "all":
        return matching == total
    if agreement == "majority":
        return 2 * matching > total
    return matching >= 1


def combine_maps_mode(combine_maps: str, human_attention: str | None) -> str:
    """The loaders' `combine_maps`, or the value given under its old keyword `human_attention`
    (still read, with a FutureWarning naming the new one)."""
    if human_attention is None:
        return combine_maps
    import warnings

    warnings.warn("the keyword 'human_attention' of the data loaders is now 'combine_maps' ('human_attention' "
                  "names the normalized vector column): write combine_maps=" + repr(human_attention) + ".",
                  FutureWarning, stacklevel=3)
    return human_attention
