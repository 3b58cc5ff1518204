"""Attention analysis of paper section V-E: pure numpy and pandas, no torch.

Every function takes plain inputs: 1-D arrays or lists of floats, one per text, at word
level unless said otherwise (`tokens.tokens_to_words` turns token attention into word attention).
A "map" is one annotator's binary list over a text's words; `maps_list` holds, per text,
the list of its kept annotators' maps.

Conventions decided here (the paper leaves them open):

- **Word attention** = sum of the word's sub-word values, renormalized over the words.
  Against the human-side mapping (`tokens.words_to_tokens`, which copies a word's value
  to each sub-word and renormalizes), summing is the inverse in mass: it recovers each
  word's total token mass, so a word of k sub-words comes back as k * w / sum(k * w),
  and the original values exactly when every word is one token.
- **Position curves** scale each text's attention to "relative to uniform": values are
  normalized to sum 1 within the text and multiplied by the text's length n, so a
  uniform text reads 1.0 at every position and texts of different lengths are
  comparable. Element i sits at relative position i/(n-1) (0 when n == 1); bins are
  equal-width over [0, 1], the last one closed. All-zero texts carry no attention and
  are left out.
- **High attention** ("binarized" attention): `std` flags values above the text's mean
  + 1 population standard deviation (ddof=0); `iqr` is Tukey's outlier rule, values
  above Q3 + 1.5 * IQR (numpy's linear-interpolation quartiles). A constant text has no
  high-attention word under either rule. Under `iqr`, a sparse text (more than 3/4 of
  its values 0) has Q3 = IQR = 0, so every non-zero value is flagged. Rates are micro
  averages (flagged words / words, over all texts); per-text rates are also given.
- **Cosine** is 0 when either vector is all zero; the table's std is the population std
  (ddof=0), as in a run's `metrics.json`.
- **Plausibility** (ERASER, DeYoung et al. 2020): the human consensus holds the words
  that at least `min_share` of the kept annotators highlighted (a single annotator: their
  map). AUPRC = average precision (sklearn's, `average_precision`) of the machine's word attention against the
  consensus, averaged over texts; token F1 compares the consensus with the machine's
  top-k words, k = number of consensus words (the hard-rationale convention; ties go to
  the earlier word). Texts whose consensus is empty or covers every word are not scored
  (both metrics are undefined or trivial there); `n_scored` says how many were.

Bad input raises `ValueError` subclasses from `humal_nb.core.errors` that say which text is
wrong and how: mismatched lengths, negative or non-finite values, unknown rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from humal_nb.core.errors import DataFormatError, ParameterError

RULES = ("std", "iqr")

Vector = npt.ArrayLike  # one text's values, 1-D
Maps = Sequence[npt.ArrayLike]  # one text's annotator maps, each 1-D binary over words


# ------------------------------------------------------------------ validation helpers
def _vector(values: Vector, what: str = "attention") -> np.ndarray:
    """1-D float array; raises on wrong shape, non-finite or negative values."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DataFormatError(f"{what} must be a 1-D vector, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise DataFormatError(f"{what} has NaN or infinite values; attention must be finite.")
    if arr.size and arr.min() < 0:
        raise DataFormatError(f"{what} has negative values (min {arr.min():.6g}); attention must be >= 0.")
    return arr


def _vectors(values_list: Sequence[Vector], what: str) -> list[np.ndarray]:
    return [_vector(v, f"{what}, text {j}") for j, v in enumerate(values_list)]


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ParameterError(f"unknown high-attention rule {rule!r}; valid rules: {', '.join(RULES)}.")


def _check_pairs(human: Sequence[np.ndarray], machine: Sequence[np.ndarray], name: str) -> None:
    """Same number of texts, and the same number of values for each text."""
    if len(human) != len(machine):
        raise DataFormatError(
            f"{len(human)} human texts but {len(machine)} texts for {name}; they must be the same texts."
        )
    for j, (h, m) in enumerate(zip(human, machine)):
        if len(h) != len(m):
            raise DataFormatError(
                f"text {j}: human vector has {len(h)} values but {name} has {len(m)}; "
                "compare both at word level (see tokens.tokens_to_words)."
            )


def _text_maps(maps: Maps, what: str) -> np.ndarray:
    """[annotators, words] 0/1 int array from one text's maps (equal lengths, binary)."""
    rows = [np.asarray(m, dtype=np.float64) for m in maps]
    for a, row in enumerate(rows):
        if row.ndim != 1:
            raise DataFormatError(f"{what}, map {a}: a map must be 1-D, got shape {row.shape}.")
        if not np.all(np.isin(row, (0.0, 1.0))):
            raise DataFormatError(f"{what}, map {a}: a map must be binary (0/1 per word).")
        if len(row) != len(rows[0]):
            raise DataFormatError(
                f"{what}: map {a} has {len(row)} words but map 0 has {len(rows[0])}; "
                "all maps of a text must cover the same words."
            )
    if not rows:
        return np.zeros((0, 0), dtype=np.int64)
    return np.vstack(rows).astype(np.int64)


# ----------------------------------------------------------------- word-level attention
# ---------------------------------------------------------------------- position curves
def position_bins(n: int, n_bins: int = 10) -> np.ndarray:
    """The position bin of each of a text's `n` elements: floor(n_bins * i / (n-1)), the last
    position in the last bin (n == 1: bin 0), as `position_curve` bins them."""
    # exact integer floor of (i / (n-1)) * n_bins, clipped so position 1.0 is in the last bin
    bins = np.zeros(n, dtype=np.int64) if n == 1 else np.arange(n) * n_bins // (n - 1)
    return np.minimum(bins, n_bins - 1)


def position_curve(attention_list: Sequence[Vector], n_bins: int = 10) -> np.ndarray:
    """Mean attention relative to uniform, by relative position in the text (Fig. 6).

    Each text's values are normalized to sum 1 and multiplied by its length n (uniform
    attention reads 1.0); element i goes to bin floor(n_bins * i / (n-1)), the last
    position into the last bin (n == 1: bin 0). All-zero texts are left out.

    Args:
        attention_list: list of [n_j] vectors, one per text (word or token level).
        n_bins: number of equal-width bins over relative position [0, 1].
    Returns:
        [n_bins] mean scaled attention per bin, NaN where no element fell.
    """
    if n_bins < 1:
        raise ParameterError(f"n_bins must be >= 1, got {n_bins}.")
    sums = np.zeros(n_bins, dtype=np.float64)
    counts = np.zeros(n_bins, dtype=np.int64)
    for values in _vectors(attention_list, "attention"):
        n, total = len(values), values.sum()
        if n == 0 or total <= 0:
            continue
        scaled = values / total * n
        bins = position_bins(n, n_bins)
        sums += np.bincount(bins, weights=scaled, minlength=n_bins)
        counts += np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def position_curves(named: Mapping[str, Sequence[Vector]], n_bins: int = 10) -> pd.DataFrame:
    """Position curves of several sources (e.g. human, baseline, HuMAL) as a tidy table.

    Args:
        named: {source name: list of [n_j] vectors, one per text}.
        n_bins: number of bins over relative position [0, 1].
    Returns:
        DataFrame, n_bins rows per source: `source`, `bin` (0..n_bins-1), `position`
        (bin centre, (bin + 0.5) / n_bins), `attention` (mean relative to uniform, see
        position_curve).
    """
    frames = []
    for source, attention_list in named.items():
        curve = position_curve(attention_list, n_bins)
        frames.append(
            pd.DataFrame(
                {
                    "source": source,
                    "bin": np.arange(n_bins),
                    "position": (np.arange(n_bins) + 0.5) / n_bins,
                    "attention": curve,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["source", "bin", "position", "attention"])
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------- binarized high attention
def high_attention_mask(values: Vector, rule: str = "std") -> np.ndarray:
    """Which values of one text are "high attention" (paper sec. V-E).

    Args:
        values: [n] attention of one text (>= 0).
        rule: `std`: value > mean + 1 population std (ddof=0); `iqr`: value > Q3 + 1.5 * IQR
            (Tukey's rule, numpy linear-interpolation quartiles).
    Returns:
        [n] bool array; all False for a constant (e.g. uniform or all-zero) text.
    """
    _check_rule(rule)
    arr = _vector(values)
    if arr.size == 0 or np.ptp(arr) <= 1e-12 * np.abs(arr).max():
        return np.zeros(arr.shape, dtype=bool)
    if rule == "std":
        threshold = arr.mean() + arr.std()
    else:
        q1, q3 = np.percentile(arr, [25, 75])
        threshold = q3 + 1.5 * (q3 - q1)
    return arr > threshold


def high_attention_rates(attention_list: Sequence[Vector], rule: str = "std") -> np.ndarray:
    """Per-text share of high-attention words.

    Args:
        attention_list: list of [n_j] vectors, one per text.
        rule: `std` or `iqr` (see high_attention_mask).
    Returns:
        [texts] float array, NaN for an empty text.
    """
    _check_rule(rule)
    masks = [high_attention_mask(v, rule) for v in _vectors(attention_list, "attention")]
    return np.array([m.mean() if m.size else np.nan for m in masks], dtype=np.float64)


def high_attention_rate(attention_list: Sequence[Vector], rule: str = "std") -> float:
    """Share of high-attention words over all texts (micro average: flagged / words).

    Args:
        attention_list: list of [n_j] vectors, one per text.
        rule: `std` or `iqr` (see high_attention_mask).
    Returns:
        float in [0, 1]; NaN when there are no words at all. (Paper: BERT about 5 %.)
    """
    _check_rule(rule)
    masks = [high_attention_mask(v, rule) for v in _vectors(attention_list, "attention")]
    words = sum(m.size for m in masks)
    return float(sum(int(m.sum()) for m in masks) / words) if words else float("nan")


def human_highlight_rate(maps_list: Sequence[Maps] | Sequence[npt.ArrayLike]) -> float:
    """Share of words an annotator highlighted, micro-averaged over the words of all maps.

    Args:
        maps_list: per text, the list of its annotators' [n_j] binary maps; a flat list of
            maps (one text's worth or all texts' maps chained) is accepted too.
    Returns:
        highlighted words / words over all maps; NaN without any word. (Paper: 13-21 %.)
    """
    highlighted = words = 0
    for j, item in enumerate(maps_list):
        nested = len(item) > 0 and np.ndim(item[0]) > 0
        maps = _text_maps(item if nested else [item], f"text {j}" if nested else f"map {j}")
        highlighted += int(maps.sum())
        words += maps.size
    return float(highlighted / words) if words else float("nan")


# --------------------------------------------------------------------- cosine similarity
def cosine_similarity(a: Vector, b: Vector) -> float:
    """Cosine similarity of two attention vectors of one text.

    Args:
        a: [n] attention (>= 0), e.g. human word attention.
        b: [n] attention (>= 0), e.g. machine word attention.
    Returns:
        float in [0, 1]; 0 when either vector is all zero.
    """
    x, y = _vector(a, "first vector"), _vector(b, "second vector")
    if len(x) != len(y):
        raise DataFormatError(f"vectors of different lengths: {len(x)} and {len(y)}.")
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx == 0 or ny == 0:
        return 0.0
    return float(np.clip(x @ y / (nx * ny), 0.0, 1.0))


def cosines(human_list: Sequence[Vector], machine_list: Sequence[Vector], name: str = "machine") -> np.ndarray:
    """Per-text cosine similarity of human and machine attention.

    Args:
        human_list: list of [n_j] human word attention vectors.
        machine_list: list of [n_j] machine word attention vectors, same texts and order.
        name: the machine's name, for error messages.
    Returns:
        [texts] float array.
    """
    human = _vectors(human_list, "human attention")
    machine = _vectors(machine_list, f"{name} attention")
    _check_pairs(human, machine, name)
    return np.array([cosine_similarity(h, m) for h, m in zip(human, machine)], dtype=np.float64)


def cosine_table(human_list: Sequence[Vector], models: Mapping[str, Sequence[Vector]]) -> pd.DataFrame:
    """Mean cosine similarity of human and machine attention per model (Table V).

    Args:
        human_list: list of [n_j] human word attention vectors (test set).
        models: {model name: list of [n_j] machine word attention vectors, same texts}.
    Returns:
        DataFrame, one row per model: `model`, `cosine_mean`, `cosine_std` (ddof=0), `n`.
    """
    rows = []
    for name, machine_list in models.items():
        values = cosines(human_list, machine_list, name)
        rows.append(
            {
                "model": name,
                "cosine_mean": float(values.mean()) if values.size else float("nan"),
                "cosine_std": float(values.std()) if values.size else float("nan"),
                "n": int(values.size),
            }
        )
    return pd.DataFrame(rows, columns=["model", "cosine_mean", "cosine_std", "n"])


# ------------------------------------------------------------------------- plausibility
def consensus_highlights(maps: Maps, min_share: float = 0.5) -> np.ndarray:
    """Human consensus rationale of one text.

    Args:
        maps: the text's kept annotators' maps, each [n] binary over words (at least one).
        min_share: share of annotators that must highlight a word, in (0, 1]; the default
            0.5 means at least half. A single annotator's map is its own consensus.
    Returns:
        [n] int array of 0/1.
    """
    if not 0 < min_share <= 1:
        raise ParameterError(f"min_share must be in (0, 1], got {min_share}.")
    arr = _text_maps(maps, "maps")
    if arr.shape[0] == 0:
        raise DataFormatError("no maps: a consensus needs at least one annotator's map.")
    votes = arr.sum(axis=0)
    return (votes >= min_share * arr.shape[0] - 1e-9).astype(np.int64)


def average_precision(gold: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Average precision of `scores` against the binary `gold` (at least one 1): the value of
    `sklearn.metrics.average_precision_score(gold, scores)`, computed the same way step by step
    (thresholds at the distinct scores, the step integral of precision over recall) so the floats
    are identical (`tests/test_analysis.py` checks them against sklearn), without its input
    checks, which cost a millisecond a call (a report scores thousands of texts)."""
    truth = (np.asarray(gold) == 1).astype(np.float64)
    values = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-values, kind="stable")  # descending; ties fall in one threshold either way
    values, truth = values[order], truth[order]
    ends = np.r_[np.nonzero(np.diff(values))[0], truth.size - 1]
    tps = np.cumsum(truth, dtype=np.float64)[ends]
    fps = 1 + ends.astype(np.float64) - tps
    predicted = tps + fps
    precision = np.where(predicted != 0, tps / np.where(predicted != 0, predicted, 1.0), 0.0)
    recall = tps / tps[-1]
    precision = np.concatenate((precision[::-1], [1.0]))
    recall = np.concatenate((recall[::-1], [0.0]))
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def plausibility(
    machine_list: Sequence[Vector],
    maps_list: Sequence[Maps],
    min_share: float = 0.5,
    name: str = "machine",
) -> dict[str, float | int]:
    """ERASER-style plausibility of machine word attention against the human consensus.

    Args:
        machine_list: list of [n_j] machine word attention vectors.
        maps_list: per text, its annotators' [n_j] binary maps (same texts and order).
        min_share: consensus threshold (see consensus_highlights).
        name: the machine's name, for error messages.
    Returns:
        {`auprc`: mean average precision over scored texts, `token_f1`: mean F1 of the
        top-k words (k = consensus size) over scored texts, `n_scored`: texts scored,
        `n_texts`: texts given}. Texts without maps, or whose consensus is empty or every
        word, are not scored; with none scored both metrics are NaN.
    """
    machine = _vectors(machine_list, f"{name} attention")
    if len(machine) != len(maps_list):
        raise DataFormatError(
            f"{len(maps_list)} texts with maps but {len(machine)} texts for {name}; they must be the same texts."
        )
    auprcs, f1s = [], []
    for j, (scores, maps) in enumerate(zip(machine, maps_list)):
        if len(maps) == 0:
            continue
        gold = consensus_highlights(_text_maps(maps, f"text {j}"), min_share)
        if len(gold) != len(scores):
            raise DataFormatError(
                f"text {j}: human maps have {len(gold)} words but {name} has {len(scores)} values; "
                "compare both at word level (see tokens.tokens_to_words)."
            )
        k = int(gold.sum())
        if k == 0 or k == len(gold):
            continue
        auprcs.append(average_precision(gold, scores))
        top = np.argsort(-scores, kind="stable")[:k]
        hits = int(gold[top].sum())
        f1s.append(hits / k)  # precision = recall = hits / k, so F1 = hits / k
    return {
        "auprc": float(np.mean(auprcs)) if auprcs else float("nan"),
        "token_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "n_scored": len(auprcs),
        "n_texts": len(machine),
    }


def plausibility_table(
    maps_list: Sequence[Maps],
    models: Mapping[str, Sequence[Vector]],
    min_share: float = 0.5,
) -> pd.DataFrame:
    """Plausibility of several models' word attention (see plausibility).

    Args:
        maps_list: per text, its annotators' [n_j] binary maps.
        models: {model name: list of [n_j] machine word attention vectors, same texts}.
        min_share: consensus threshold (see consensus_highlights).
    Returns:
        DataFrame, one row per model: `model`, `auprc`, `token_f1`, `n_scored`.
    """
    rows = []
    for name, machine_list in models.items():
        result = plausibility(machine_list, maps_list, min_share, name=name)
        rows.append(
            {"model": name, "auprc": result["auprc"], "token_f1": result["token_f1"], "n_scored": result["n_scored"]}
        )
    return pd.DataFrame(rows, columns=["model", "auprc", "token_f1", "n_scored"])


# ---------------------------------------------------------------------------- summary
SUMMARY_COLUMNS = [
    "model",
    "high_attention_rate",
    "rule_rate",
    "cosine_mean",
    "cosine_std",
    "auprc",
    "token_f1",
    "n_scored",
]


def attention_summary(
    human_list: Sequence[Vector],
    maps_list: Sequence[Maps],
    models: Mapping[str, Sequence[Vector]],
    rule: str = "std",
    min_share: float = 0.5,
) -> pd.DataFrame:
    """Section V-E in one table: a "human" row, then one row per model.

    Args:
        human_list: list of [n_j] continuous human word attention vectors.
        maps_list: per text, its annotators' [n_j] binary maps (same texts).
        models: {model name: list of [n_j] machine word attention vectors, same texts}.
        rule: high-attention rule, `std` or `iqr`.
        min_share: consensus threshold for plausibility.
    Returns:
        DataFrame with columns `model`, `high_attention_rate` (human: the share of words
        highlighted in the maps, the paper's comparison; models: the rule's rate),
        `rule_rate` (every row: the rule's rate of its continuous vector; for humans,
        of the summed-maps vector), `cosine_mean`, `cosine_std` (to human; NaN for the
        human row, the reference), `auprc`, `token_f1`, `n_scored` (against the
        consensus; the human row scores its own continuous vector, a ceiling that is
        1.0 when the vector is the sum of the maps).
    """
    _check_rule(rule)
    if "human" in models:
        raise ParameterError('"human" names the reference row; give the model another name.')
    human = _vectors(human_list, "human attention")
    _check_maps_match(human, maps_list)
    human_plaus = plausibility(human, maps_list, min_share, name="human")
    rows = [
        {
            "model": "human",
            "high_attention_rate": human_highlight_rate(maps_list),
            "rule_rate": high_attention_rate(human, rule),
            "cosine_mean": float("nan"),
            "cosine_std": float("nan"),
            "auprc": human_plaus["auprc"],
            "token_f1": human_plaus["token_f1"],
            "n_scored": human_plaus["n_scored"],
        }
    ]
    cos = cosine_table(human, models).set_index("model")
    plaus = plausibility_table(maps_list, models, min_share).set_index("model")
    for name in models:
        rate = high_attention_rate(models[name], rule)
        rows.append({
            "model": name, "high_attention_rate": rate, "rule_rate": rate,
            "cosine_mean": float(cos.loc[name, "cosine_mean"]), "cosine_std": float(cos.loc[name, "cosine_std"]),
            "auprc": float(plaus.loc[name, "auprc"]), "token_f1": float(plaus.loc[name, "token_f1"]),
            "n_scored": int(plaus.loc[name, "n_scored"]),
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _check_maps_match(human: list[np.ndarray], maps_list: Sequence[Maps]) -> None:
    if len(human) != len(maps_list):
        raise DataFormatError(f"{len(human)} human vectors but {len(maps_list)} texts with maps.")
    for j, maps in enumerate(maps_list):
        arr = _text_maps(maps, f"text {j}")
        if arr.shape[0] and arr.shape[1] != len(human[j]):
            raise DataFormatError(
                f"text {j}: human vector has {len(human[j])} values but its maps have {arr.shape[1]} words."
            )
