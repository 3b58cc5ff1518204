"""A planted shortcut: does training on rationales keep a model from learning a spurious cue?

`shortcut_rate: r` plants a class-indicating token in a seeded share r of each class's training
texts, as Herrewijnen et al. (EACL 2026) do: every sentence-ending punctuation mark of a planted
text (a word's trailing run of `.`, `!`, `?`) becomes the class's token, `!` for label 1 and `?`
for label 0, written as a word of its own; a text with no such mark gets one token at its end.
The planted words carry no human attention in any map (people never marked them), so no
rationale arm marks them either, and the words the person did mark keep their values.

The evaluation adds a *flipped* test set: every test text planted with the token of the other
class. A model that learned the cue loses AUC there; the drop from the clean test AUC to the
flipped one is its reliance on the shortcut. The clean test set is never planted.
"""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd

#: the planted token of each label
SHORTCUT_TOKENS: dict[int, str] = {1: "!", 0: "?"}
#: training-frame column: True on the texts that carry the planted token
PLANTED_COLUMN = "shortcut_planted"
_SENTENCE_END = re.compile(r"[.!?]+$")


def _rank(seed: int, bootstrap: int, review_id: str) -> int:
    return int(hashlib.sha256(f"shortcut:{seed}:{bootstrap}:{review_id}".encode()).hexdigest()[:16], 16)


def plant_words(words: list[str], token: str) -> tuple[list[str], list[int | None]]:
    """(`words` with the token planted, the new position of each original word, None for a word
    the token replaced).

    Each word that ends a sentence loses its trailing `.`/`!`/`?` run and is followed by `token`
    as a word of its own (a word that is only such punctuation becomes `token`); with no such
    word, `token` is appended."""
    out: list[str] = []
    positions: list[int | None] = []
    planted = False
    for word in words:
        match = _SENTENCE_END.search(word)
        if match is None:
            positions.append(len(out))
            out.append(word)
            continue
        planted = True
        stem = word[: match.start()]
        if stem:
            positions.append(len(out))
            out.append(stem)
        else:
            positions.append(None)
        out.append(token)
    if not planted:
        out.append(token)
    return out, positions


def _spread(values: list, positions: list[int | None], length: int, fill: float | int) -> list:
    out = [fill] * length
    for value, place in zip(values, positions):
        if place is not None:
            out[place] = value
    return out


def _planted_row(row: pd.Series, token: str) -> dict:
    """A review's text, words, maps and human attention with `token` planted; the planted words
    are 0 in every map and in the human attention (renormalized to sum 1 where a replaced
    punctuation word had carried some)."""
    words, positions = plant_words(list(row["words"]), token)
    human = _spread(list(row["human_attention"]), positions, len(words), 0.0)
    total = sum(human)
    return {
        "text": " ".join(words),
        "words": words,
        "maps": [_spread(list(m), positions, len(words), 0) for m in row["maps"]],
        "human_attention": [v / total for v in human] if total > 0 else human,
    }


def plant(frame: pd.DataFrame, chosen: pd.Series, flip: bool = False) -> pd.DataFrame:
    """A copy of `frame` with the class token planted in the rows where `chosen` is True (the
    other class's token with `flip`); `shortcut_planted` says which."""
    out = frame.copy()
    for column in ("text", "words", "maps", "human_attention"):
        out[column] = out[column].astype(object)
    for index in out.index[chosen.reindex(out.index, fill_value=False).to_numpy(dtype=bool)]:
        label = int(out.at[index, "label"])
        token = SHORTCUT_TOKENS[1 - label if flip else label]
        for column, value in _planted_row(out.loc[index], token).items():
            out.at[index, column] = value
    out[PLANTED_COLUMN] = chosen.reindex(out.index, fill_value=False).to_numpy(dtype=bool)
    return out


def shortcut_subset(train: pd.DataFrame, rate: float, seed: int, bootstrap: int) -> pd.Series:
    """Boolean mask: the share `rate` of each class's training texts that carry the token,
    ranked by a hash of (seed, bootstrap, review_id) (round half up; nested in `rate`)."""
    keep = pd.Series(False, index=train.index)
    for _, group in train.groupby("label", sort=True):
        ranks = sorted(group.index, key=lambda i: _rank(seed, bootstrap, str(train.at[i, "review_id"])))
        keep.loc[ranks[: math.floor(rate * len(ranks) + 0.5)]] = True
    return keep


def plant_shortcut(train: pd.DataFrame, rate: float, seed: int = 0, bootstrap: int = 0) -> pd.DataFrame:
    """The training frame with the class token planted in a share `rate` of each class's texts
    (`train` itself when `rate` is 0)."""
    if rate <= 0:
        return train
    return plant(train, shortcut_subset(train, rate, seed, bootstrap))


def flipped_test(test: pd.DataFrame) -> pd.DataFrame:
    """The test set with every text planted with the *other* class's token."""
    return plant(test, pd.Series(True, index=test.index), flip=True)


def count_planted(frame: pd.DataFrame) -> int:
    return int(frame[PLANTED_COLUMN].sum()) if PLANTED_COLUMN in frame else 0


__all__ = [
    "PLANTED_COLUMN",
    "SHORTCUT_TOKENS",
    "count_planted",
    "flipped_test",
    "plant",
    "plant_shortcut",
    "plant_words",
    "shortcut_subset",
]
