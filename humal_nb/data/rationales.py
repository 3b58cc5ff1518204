"""Where the training rationales come from: control arms and an annotation budget.

A run trains on the human attention of its training reviews (`rationale_source: human`).
Two control arms ask whether it is *people's* attention that helps, or any attention
regularisation would:

- `random`: each review's human map with its values permuted over that review's words
  (the same number of highlighted words and the same mass, at random places), seeded from
  the run's seed and bootstrap and the review's id, so the same run draws the same maps;
- `uniform`: equal attention on every word of the review.

The annotation budget (`rationale_fraction` f in (0, 1]) keeps the rationale of a seeded,
label-stratified share f of the training reviews; the others get an all-zero vector, which
training treats as "no human attention" (cross-entropy only). Reviews are ranked once per
(seed, bootstrap) and class, and each class keeps the first round(f x its size), so the
subsets are nested: the 10 % are inside the 30 %.

Only the training reviews change: the test set keeps people's attention, against which
every run's attention is measured. `maps` (the annotators' binary maps) are left as read.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from humal_nb.errors import NotEnoughDataError, ParameterError
from humal_nb.names import DEFAULT_RATIONALE_FRACTION, DEFAULT_RATIONALE_SOURCE, RATIONALE_SOURCES


def _seed(*parts: object) -> int:
    """A 64-bit seed from the parts' text (independent of Python's hash randomisation)."""
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16], 16)


def random_rationale(values: list[float] | np.ndarray, seed: int, bootstrap: int, review_id: str) -> list[float]:
    """`values` permuted over the review's words, seeded by (seed, bootstrap, review_id)."""
    array = np.asarray(values, dtype=float)
    order = np.random.default_rng(_seed("random", seed, bootstrap, review_id)).permutation(len(array))
    return array[order].tolist()


def uniform_rationale(n_words: int) -> list[float]:
    """Equal attention on each of `n_words` words (sums to 1)."""
    if n_words < 1:
        raise ValueError("a review has at least one word")
    return [1.0 / n_words] * n_words


def rationale_subset(train: pd.DataFrame, fraction: float, seed: int, bootstrap: int) -> pd.Series:
    """Boolean mask over `train`: the reviews that keep their rationale at `fraction`.

    Per label, the reviews are ranked by a hash of (seed, bootstrap, review_id) and the first
    round(fraction x class size) kept (half rounds up), so a larger fraction keeps a superset.
    """
    if not 0.0 < fraction <= 1.0:
        raise ParameterError(f"rationale_fraction must be in (0, 1], got {fraction}.")
    keep = pd.Series(False, index=train.index)
    for _, group in train.groupby("label", sort=True):
        ranks = sorted(group.index, key=lambda i: _seed("fraction", seed, bootstrap, train.at[i, "review_id"]))
        k = math.floor(fraction * len(ranks) + 0.5)
        keep.loc[ranks[:k]] = True
    if not keep.any():
        raise NotEnoughDataError(
            f"rationale_fraction {fraction:g} keeps no rationale among {len(train)} training reviews "
            f"(a class keeps round(fraction x its size)); use at least {0.5 / len(train):.3g}, or more reviews."
        )
    return keep


def apply_rationales(
    train: pd.DataFrame,
    source: str = DEFAULT_RATIONALE_SOURCE,
    fraction: float = DEFAULT_RATIONALE_FRACTION,
    seed: int = 0,
    bootstrap: int = 0,
) -> pd.DataFrame:
    """The training frame with `human_attention` replaced as the arm and budget ask.

    The defaults (`human`, 1.0) return `train` itself, untouched. Otherwise a copy: `random`
    or `uniform` vectors, then all-zero vectors for the reviews outside the budget's subset.
    """
    if source not in RATIONALE_SOURCES:
        raise ParameterError(f"rationale_source {source!r} is unknown; valid: {', '.join(RATIONALE_SOURCES)}.")
    if source == DEFAULT_RATIONALE_SOURCE and fraction == DEFAULT_RATIONALE_FRACTION:
        return train
    frame = train.copy()
    vectors = list(frame["human_attention"])
    if source == "random":
        vectors = [random_rationale(v, seed, bootstrap, rid) for v, rid in zip(vectors, frame["review_id"])]
    elif source == "uniform":
        vectors = [uniform_rationale(len(words)) for words in frame["words"]]
    else:
        vectors = [list(v) for v in vectors]
    if fraction < 1.0:
        keep = rationale_subset(frame, fraction, seed, bootstrap)
        vectors = [v if kept else [0.0] * len(v) for v, kept in zip(vectors, keep)]
    frame["human_attention"] = pd.Series(vectors, index=frame.index, dtype=object)
    return frame


def count_rationales(train: pd.DataFrame) -> int:
    """How many training reviews carry a rationale (a vector that is not all zero)."""
    return int(sum(sum(v) > 0 for v in train["human_attention"]))


__all__ = ["apply_rationales", "count_rationales", "random_rationale", "rationale_subset", "uniform_rationale"]
