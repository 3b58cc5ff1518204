"""Where the training rationales come from: control arms and an annotation budget.

A run trains on the human attention of its training reviews (`rationale_source: human`).
Two control arms ask whether it is *people's* attention that helps, or any attention
regularisation would:

- `random`: each review's human map with its values permuted over that review's words
  (the same number of highlighted words and the same mass, at random places), seeded from
  the run's seed and bootstrap and the review's id, so the same run draws the same maps;
- `uniform`: equal attention on every word of the review;
- `random_outside`: as many words as the person marked, drawn (seeded as `random`) from the
  words the person did *not* mark, carrying the person's values in a random order, so the arm
  never overlaps people's rationale (where a person marked more than half of a review, only as
  many words as are left unmarked, with the largest of the person's values); a review whose
  every word is marked keeps no rationale;
- `lexicon`: free rationales from VADER's sentiment lexicon (`vaderSentiment`, shipped inside
  the package): every word of the review found in the lexicon (lower-cased, as written or with
  its leading and trailing punctuation stripped) is marked 1, the rest 0, normalized to sum 1.
  Binary, as a person's map is: the lexicon stands in for one annotator. A review with no
  lexicon word keeps no rationale (cross-entropy only).

The annotation budget (`rationale_fraction` f in (0, 1]) keeps the rationale of a seeded share
f of the training reviews; the others get an all-zero vector, which training treats as "no human
attention" (cross-entropy only), and a `rationale_withheld` flag (`attention_loss_mean: batch`
counts them). Reviews are ranked once per (seed, bootstrap) and class by a hash of their id.
`rationale_selection: stratified` (the default) keeps the first round(f x its size) of each
class; `minority_first` keeps round(f x the training set) in all, the minority class's first
(every one of them, as far as the budget reaches), then the majority class's in rank order.
Either way the subsets are nested: the 10 % are inside the 30 %.

Only the training reviews change: the test set keeps people's attention, against which
every run's attention is measured. `maps` (the annotators' binary maps) are left as read.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from humal_nb.core.errors import NotEnoughDataError, ParameterError
from humal_nb.core.names import (
    DEFAULT_RATIONALE_FRACTION,
    DEFAULT_RATIONALE_SELECTION,
    DEFAULT_RATIONALE_SOURCE,
    RATIONALE_SELECTIONS,
    RATIONALE_SOURCES,
)

#: training-frame column: True where the budget withheld a rationale the source had given
WITHHELD_COLUMN = "rationale_withheld"


def _seed(*parts: object) -> int:
    """A 64-bit seed from the parts' text (independent of Python's hash randomisation)."""
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16], 16)


def random_rationale(values: list[float] | np.ndarray, seed: int, bootstrap: int, review_id: str) -> list[float]:
    """`values` permuted over the review's words, seeded by (seed, bootstrap, review_id)."""
    array = np.asarray(values, dtype=float)
    order = np.random.default_rng(_seed("random", seed, bootstrap, review_id)).permutation(len(array))
    return array[order].tolist()


def random_outside_rationale(
    values: list[float] | np.ndarray, seed: int, bootstrap: int, review_id: str
) -> list[float]:
    """As many words as `values` marks, drawn from the words it leaves at 0, carrying its non-zero
    values in a random order (renormalized to sum 1), seeded by (seed, bootstrap, review_id).
    Where fewer words are unmarked than marked, every unmarked word is drawn and carries the
    largest of the values; with no unmarked word the result is all zero (no rationale)."""
    array = np.asarray(values, dtype=float)
    marked = np.flatnonzero(array > 0)
    unmarked = np.flatnonzero(array <= 0)
    out = np.zeros(len(array))
    k = min(len(marked), len(unmarked))
    if k == 0:
        return out.tolist()
    rng = np.random.default_rng(_seed("random_outside", seed, bootstrap, review_id))
    places = rng.choice(unmarked, size=k, replace=False)
    kept = np.sort(array[marked])[::-1][:k]
    out[places] = rng.permutation(kept)
    return (out / out.sum()).tolist()


def lexicon_words() -> dict[str, float]:
    """VADER's sentiment lexicon (word -> valence), read from the `vaderSentiment` package."""
    global _LEXICON
    if _LEXICON is None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:  # pragma: no cover - requirements install it
            raise ParameterError(
                "rationale_source 'lexicon' needs the package vaderSentiment: pip install vaderSentiment"
            ) from exc
        _LEXICON = dict(SentimentIntensityAnalyzer().lexicon)
    return _LEXICON


_LEXICON: dict[str, float] | None = None
_PUNCTUATION = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())


def lexicon_rationale(words: list[str]) -> list[float]:
    """1 on each word found in VADER's lexicon (lower-cased, as written or with its leading and
    trailing punctuation stripped), 0 elsewhere, normalized to sum 1; all zero when none is."""
    lexicon = lexicon_words()
    marks = []
    for word in words:
        lower = word.lower()
        marks.append(1.0 if lower in lexicon or lower.strip(_PUNCTUATION) in lexicon else 0.0)
    total = sum(marks)
    return [m / total for m in marks] if total else marks


def uniform_rationale(n_words: int) -> list[float]:
    """Equal attention on each of `n_words` words (sums to 1)."""
    if n_words < 1:
        raise ValueError("a review has at least one word")
    return [1.0 / n_words] * n_words


def rationale_subset(
    train: pd.DataFrame,
    fraction: float,
    seed: int,
    bootstrap: int,
    selection: str = DEFAULT_RATIONALE_SELECTION,
    minority_label: int = 1,
) -> pd.Series:
    """Boolean mask over `train`: the reviews that keep their rationale at `fraction`.

    Per label, the reviews are ranked by a hash of (seed, bootstrap, review_id). `stratified`
    keeps the first round(fraction x class size) of each class (half rounds up);
    `minority_first` keeps round(fraction x training set) in all: the minority class's ranked
    reviews first, then the other class's. A larger fraction keeps a superset either way.
    """
    if not 0.0 < fraction <= 1.0:
        raise ParameterError(f"rationale_fraction must be in (0, 1], got {fraction}.")
    if selection not in RATIONALE_SELECTIONS:
        raise ParameterError(
            f"rationale_selection {selection!r} is unknown; valid: {', '.join(RATIONALE_SELECTIONS)}."
        )
    ranked = {
        label: sorted(group.index, key=lambda i: _seed("fraction", seed, bootstrap, train.at[i, "review_id"]))
        for label, group in train.groupby("label", sort=True)
    }
    keep = pd.Series(False, index=train.index)
    if selection == "stratified":
        for ranks in ranked.values():
            keep.loc[ranks[: math.floor(fraction * len(ranks) + 0.5)]] = True
    else:
        order = ranked.get(minority_label, []) + [i for label, ranks in ranked.items()
                                                   if label != minority_label for i in ranks]
        keep.loc[order[: math.floor(fraction * len(train) + 0.5)]] = True
    if not keep.any():
        # stratified: the largest class is the first to keep one; minority_first: the whole set
        size = max(len(r) for r in ranked.values()) if selection == "stratified" else len(train)
        least = math.ceil(1000 * 0.5 / max(size, 1) * 1.0001) / 1000
        raise NotEnoughDataError(
            f"rationale_fraction {fraction:g} keeps no rationale among {len(train)} training reviews "
            f"(a class keeps round(fraction x its size)); use at least {least:g}, or more reviews."
        )
    return keep


def apply_rationales(
    train: pd.DataFrame,
    source: str = DEFAULT_RATIONALE_SOURCE,
    fraction: float = DEFAULT_RATIONALE_FRACTION,
    seed: int = 0,
    bootstrap: int = 0,
    selection: str = DEFAULT_RATIONALE_SELECTION,
    minority_label: int = 1,
) -> pd.DataFrame:
    """The training frame with `human_attention` replaced as the arm and budget ask.

    The defaults (`human`, 1.0) return `train` itself, untouched. Otherwise a copy: the arm's
    vectors (`random`, `uniform`, `random_outside`, `lexicon`), then all-zero vectors for the
    reviews outside the budget's subset, flagged in `rationale_withheld`.
    """
    if source not in RATIONALE_SOURCES:
        raise ParameterError(f"rationale_source {source!r} is unknown; valid: {', '.join(RATIONALE_SOURCES)}.")
    if source == DEFAULT_RATIONALE_SOURCE and fraction == DEFAULT_RATIONALE_FRACTION:
        return train
    frame = train.copy()
    vectors = list(frame["human_attention"])
    if source == "random":
        vectors = [random_rationale(v, seed, bootstrap, rid) for v, rid in zip(vectors, frame["review_id"])]
    elif source == "random_outside":
        vectors = [random_outside_rationale(v, seed, bootstrap, rid) for v, rid in zip(vectors, frame["review_id"])]
    elif source == "uniform":
        vectors = [uniform_rationale(len(words)) for words in frame["words"]]
    elif source == "lexicon":
        vectors = [lexicon_rationale(list(words)) for words in frame["words"]]
    else:
        vectors = [list(v) for v in vectors]
    withheld = [False] * len(vectors)
    if fraction < 1.0:
        keep = rationale_subset(frame, fraction, seed, bootstrap, selection, minority_label)
        withheld = [not kept and sum(v) > 0 for v, kept in zip(vectors, keep)]
        vectors = [v if kept else [0.0] * len(v) for v, kept in zip(vectors, keep)]
    frame["human_attention"] = pd.Series(vectors, index=frame.index, dtype=object)
    frame[WITHHELD_COLUMN] = withheld
    return frame


def count_rationales(train: pd.DataFrame) -> int:
    """How many training reviews carry a rationale (a vector that is not all zero)."""
    return int(sum(sum(v) > 0 for v in train["human_attention"]))


def withheld_rows(train: pd.DataFrame) -> list[bool]:
    """Per training review: whether the budget withheld its rationale (all False without a budget)."""
    if WITHHELD_COLUMN not in train:
        return [False] * len(train)
    return [bool(v) for v in train[WITHHELD_COLUMN]]


__all__ = [
    "WITHHELD_COLUMN",
    "apply_rationales",
    "count_rationales",
    "lexicon_rationale",
    "lexicon_words",
    "random_outside_rationale",
    "random_rationale",
    "rationale_subset",
    "uniform_rationale",
    "withheld_rows",
]
