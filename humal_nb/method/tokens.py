"""Word-to-token alignment of human attention (paper sec. III), and back from tokens to words.

A word's human value is copied to every sub-word token of that word; special tokens and
padding get 0; the token vector is renormalized to sum 1 after truncation (eq. 5). The
way back sums each word's sub-word values: it returns each word's share of the token
mass (the original word values only where every word is one token). Works with any fast tokenizer
(WordPiece, byte-level BPE, SentencePiece), through `word_ids()`; families whose tokenizers
need the joined text (`Family.split_words` false: ModernBERT, Llama-style decoders) map
tokens to words by their character offsets instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from humal_nb.config.run_config import DEFAULTS
from humal_nb.core.errors import DataFormatError, ModelError
from humal_nb.method.attention import Family


@dataclass
class EncodedText:
    """One text, tokenized: ids, the word of each token (None for special tokens)."""

    input_ids: list[int]
    word_ids: list[int | None]
    human: list[float]  # human attention per token, sums to 1 (or all 0)
    n_words: int
    token_type_ids: list[int] | None = None  # segment ids, where the tokenizer gives them (BERT, XLNet)


def check_fast(tokenizer) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"tokenizer {type(tokenizer).__name__} is not a fast tokenizer; humal_nb needs "
            "word_ids() to copy human attention onto sub-words. Load it with use_fast=True."
        )


def words_to_tokens(word_values: Sequence[float], word_ids: Sequence[int | None]) -> np.ndarray:
    """Copy each word's value to its sub-words, 0 on special tokens, renormalize to 1.

    Args:
        word_values: [words] human attention per word.
        word_ids: [tokens] the word index of each token, None for special tokens/padding.
    Returns:
        [tokens] float array summing to 1, or all zeros when no highlighted word survived.
    """
    values = np.asarray(word_values, dtype=np.float64)
    out = np.zeros(len(word_ids), dtype=np.float64)
    for i, w in enumerate(word_ids):
        if w is not None:
            if w >= len(values):
                raise DataFormatError(
                    f"token {i} belongs to word {w}, but only {len(values)} word values were given."
                )
            out[i] = values[w]
    total = out.sum()
    return out / total if total > 0 else out


def tokens_to_words(
    token_values: Sequence[float], word_ids: Sequence[int | None], n_words: int | None = None
) -> np.ndarray:
    """Word-level attention: each word's sub-word values summed, renormalized over words.

    Args:
        token_values: [tokens] attention per token of one text (finite, >= 0).
        word_ids: [tokens] word index of each token, None for special/padding tokens
            (a fast tokenizer's `encoding.word_ids()`).
        n_words: number of words of the text; default max word id + 1. Words with no
            token (truncated away) get 0.
    Returns:
        [n_words] float array summing to 1, or all zeros when no word has attention.
    Raises:
        DataFormatError when the values are not one finite, non-negative value per token.
    """
    values = np.asarray(token_values, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(word_ids):
        raise DataFormatError(
            f"{values.size} token values but {len(word_ids)} word ids; they must be the same tokens."
        )
    if not np.all(np.isfinite(values)) or (values.size and values.min() < 0):
        raise DataFormatError("token values must be finite and >= 0 (attention); got NaN, infinite or negative values.")
    ids = [w for w in word_ids if w is not None]
    if any(int(w) < 0 for w in ids):
        raise DataFormatError("word ids must be >= 0 (or None for special tokens).")
    needed = max(ids) + 1 if ids else 0
    if n_words is None:
        n_words = needed
    elif n_words < needed:
        raise DataFormatError(f"a token belongs to word {needed - 1}, but n_words is {n_words}.")
    out = np.zeros(n_words, dtype=np.float64)
    keep = np.array([w is not None for w in word_ids], dtype=bool)
    if keep.any():
        np.add.at(out, np.asarray(ids, dtype=np.int64), values[keep])
    total = out.sum()
    return out / total if total > 0 else out


def encode_texts(
    tokenizer,
    family: Family,
    words: Sequence[Sequence[str]],
    human: Sequence[Sequence[float]] | None = None,
    max_length: int = DEFAULTS["max_length"],
) -> list[EncodedText]:
    """Tokenize word lists (is_split_into_words) and align human attention to tokens.

    GPT-2: a BOS token is prepended (paper sec. V-F). Truncation keeps the family's
    special tokens and renormalizes the human vector over what is left. Segment ids are
    kept where the tokenizer gives them (XLNet puts its classification token in a segment
    of its own), so the model sees what a plain Hugging Face fine-tuning would give it.
    """
    check_fast(tokenizer)
    for j, ws in enumerate(words):
        if len(ws) == 0:
            raise DataFormatError(f"text {j} has no words: empty texts cannot be classified.")
    limit = max_length - 1 if family.prepend_bos else max_length
    if family.split_words:
        batch = tokenizer(
            [list(ws) for ws in words],
            is_split_into_words=True,
            truncation=True,
            max_length=limit,
            padding=False,
        )
        word_ids = [batch.word_ids(j) for j in range(len(words))]
    else:
        batch, word_ids = _encode_joined(tokenizer, words, limit)
    encoded = []
    for j in range(len(words)):
        ids = list(batch["input_ids"][j])
        wids = list(word_ids[j])
        types = list(batch["token_type_ids"][j]) if "token_type_ids" in batch and family.segment_ids else None
        if family.prepend_bos:
            bos = tokenizer.bos_token_id
            if bos is None:
                raise ModelError("the GPT-2 tokenizer has no BOS token to prepend.")
            ids, wids = [bos, *ids], [None, *wids]
            types = [0, *types] if types is not None else None
        values = human[j] if human is not None else [0.0] * len(words[j])
        if len(values) != len(words[j]):
            raise DataFormatError(
                f"text {j}: {len(values)} human attention values for {len(words[j])} words."
            )
        encoded.append(EncodedText(ids, wids, words_to_tokens(values, wids).tolist(), len(words[j]), types))
    return encoded


def _encode_joined(tokenizer, words: Sequence[Sequence[str]], limit: int):
    """Tokenize each text as one string (words joined by spaces), as byte-level BPE and
    SentencePiece decoders (Llama-3, Qwen, Mistral, Gemma) and ModernBERT saw text in
    pre-training: pre-split words would lose the space that starts their tokens. Each token
    belongs to the word its first character falls in (a space belongs to the word after
    it); special tokens (word_ids() None) and empty spans belong to no word.

    Returns the tokenizer's batch and, per text, the word index of each token."""
    batch = tokenizer(
        [" ".join(ws) for ws in words], truncation=True, max_length=limit, padding=False,
        return_offsets_mapping=True,
    )
    word_ids = []
    for j, ws in enumerate(words):
        owner: list[int] = []  # character -> word
        for w, word in enumerate(ws):
            owner += [w] * (len(word) + (1 if w else 0))
        special = batch.word_ids(j)
        word_ids.append([
            None if special[i] is None or end <= start else owner[min(start, len(owner) - 1)]
            for i, (start, end) in enumerate(batch["offset_mapping"][j])
        ])
    return batch, word_ids


def collate(
    encoded: Sequence[EncodedText], pad_id: int, padding_side: str, pad_type_id: int = 0
) -> dict[str, torch.Tensor]:
    """Pad a batch to its longest text (dynamic padding) on the family's side.

    `token_type_ids` is in the batch when every text has segment ids, padded with
    `pad_type_id` (the tokenizer's `pad_token_type_id`).
    """
    length = max(len(e.input_ids) for e in encoded)
    ids = torch.full((len(encoded), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), length), dtype=torch.long)
    human = torch.zeros((len(encoded), length), dtype=torch.float32)
    with_types = all(e.token_type_ids is not None for e in encoded)
    types = torch.full((len(encoded), length), pad_type_id, dtype=torch.long)
    for row, e in enumerate(encoded):
        n = len(e.input_ids)
        span = slice(length - n, length) if padding_side == "left" else slice(0, n)
        ids[row, span] = torch.tensor(e.input_ids, dtype=torch.long)
        mask[row, span] = 1
        human[row, span] = torch.tensor(e.human, dtype=torch.float32)
        if with_types:
            types[row, span] = torch.tensor(e.token_type_ids, dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask, "human_tokens": human}
    if with_types:
        batch["token_type_ids"] = types
    return batch


def padding_of(tokenizer) -> tuple[int, str, int]:
    """`collate`'s padding arguments for a tokenizer: pad id, side, pad segment id."""
    return tokenizer.pad_token_id, tokenizer.padding_side, getattr(tokenizer, "pad_token_type_id", 0) or 0


def unpad(values: torch.Tensor, attention_mask: torch.Tensor) -> list[np.ndarray]:
    """Per-text arrays of the real (non-padding) tokens' values, in token order."""
    out = []
    for row, mask in zip(values.detach().float().cpu().numpy(), attention_mask.bool().cpu().numpy()):
        out.append(row[mask])
    return out
