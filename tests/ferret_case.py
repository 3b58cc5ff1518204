"""The case of the AOPC cross-check against ferret-xai, in one place.

`scripts/ferret_reference.py` computes ferret's AOPC comprehensiveness and sufficiency on
this case and stores them in FIXTURE; `tests/test_faithfulness.py` computes humal_nb's on
the same case and compares. Anything changed here (the model, the tokenizer, the words, the
seeds, the percents, the scores) changes the case: regenerate FIXTURE (see the script).

The case: a tiny random BERT and its offline WordPiece tokenizer (tests/tiny_models.py),
three texts of ten words drawn from the words that are one token each (so ferret's
token-level erasure is humal_nb's word-level one), the percents 20, 30 and 50 % (where
ferret's floor(p * n) and humal_nb's ceil(p * n) agree for ten words) and a seeded
permutation of 1..10 as each text's word scores (all positive, no ties: ferret's `only_pos`
keeps them all and no rationale repeats).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tiny_models import TOKENIZERS, tiny_model

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "ferret_aopc.json"

WORDS = ["the", "food", "was", "great", "and", "will", "be", "back", "again", "never", "cold", "going", "this",
         "to", "with"]

FAMILY, STRATEGY = "bert", "baseline"
N_TEXTS, N_WORDS, TEXT_SEED = 3, 10, 1
PERCENTS = (0.2, 0.3, 0.5)


def random_texts(n: int, length: int, seed: int = 0, words: list[str] = WORDS) -> list[list[str]]:
    """n texts of `length` words drawn (with replacement) from `words`."""
    rng = np.random.default_rng(seed)
    return [[str(w) for w in rng.choice(words, size=length)] for _ in range(n)]


@dataclass(frozen=True)
class Case:
    model: object
    tokenizer: object
    texts: list[list[str]]
    scores: list[np.ndarray]
    percents: tuple[float, ...]


def ferret_case() -> Case:
    """The model, tokenizer, texts, word scores and percents of the cross-check."""
    model, tokenizer = tiny_model(FAMILY, strategy=STRATEGY), TOKENIZERS[FAMILY]()
    single = [w for w in WORDS if len(tokenizer.tokenize(w)) == 1]  # one token each (the trained vocabulary varies)
    texts = random_texts(N_TEXTS, N_WORDS, seed=TEXT_SEED, words=single)
    scores = [np.random.default_rng(j).permutation(N_WORDS) + 1.0 for j in range(N_TEXTS)]
    return Case(model, tokenizer, texts, scores, PERCENTS)
