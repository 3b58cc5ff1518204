"""Beyond plausibility: is the attention faithful? ERASER's erasure metrics (DeYoung et al. 2020).

An attention source (human, a model's word attention, random words) ranks each review's
words; a model under test (the baseline or the HuMAL model) is run on the review with
its top-k % words removed or with only them kept. With p the model's probability of the
class it predicts on the whole review (class 1 when P(1) >= 0.5):

- **comprehensiveness** at k = p(review) - p(review without its top-k % words): high when
  the words the source points at are the ones the prediction needs;
- **sufficiency** at k = p(review) - p(only its top-k % words): low (or negative) when
  those words alone carry the prediction;
- **AOPC**: each averaged over k in PERCENTS = 1, 5, 10, 20, 50 %, then over reviews.

Conventions decided here:

- **Words, not tokens.** Words are removed from the word list and the rest is re-tokenized
  with `tokens.encode_texts` (the family's special tokens added, the run's max_length).
- **The text the model saw.** A review longer than max_length is first cut to the words
  the model sees whole or in part; ranks, k and removals are over those words, so a
  removal never pulls unseen words into view.
- **top-k rounds up**: k = ceil(percent * n) words, at least 1 and at most n (1 % of a
  30-word review is 1 word). At least one word is always kept: comprehensiveness
  removes min(k, n - 1) words (a one-word review loses none, drop 0); sufficiency keeps
  k >= 1 words, in their original order.
- **Ties** go to the earlier word (a stable sort, as `analysis.plausibility`).
- **Random control**: seeded uniform scores per word (`random_scores`), the same for
  every model under test.
- **Toward the true label** (`target="label"`): the same drops of the probability of
  the review's label instead of the predicted class. ERASER uses the predicted class;
  a model that predicts one class for every review (an imbalanced training set read
  at the 0.5 threshold) gains confidence in it when the other class's words go, so
  its comprehensiveness is negative on the other class's reviews. Both read the same
  model runs (only the sign of each drop changes).

IOU-F1 (ERASER's partial-match plausibility): a source's predicted rationale is the top
ceil(r * n) words of each review, r the test set's human highlight rate (the share of
words an annotator highlighted, `analysis.human_highlight_rate`; about 15 % on Yelp-HAT)
unless given; its spans are the maximal runs of consecutive selected words. The human
spans are the runs of the consensus (words at least half the annotators highlighted,
`analysis.consensus_highlights`). A predicted span is a match when its best IOU (shared
words / words of either) with a human span is >= 0.5; precision = matches / predicted
spans, recall = matches / human spans, F1 micro-averaged over the reviews (ERASER's
headline figure; the macro F1 is also given). Reviews whose consensus is empty or every
word are not scored, as in `analysis.plausibility`.

The erasure curves of one model are one job: every distinct text that any source, review
and k needs is gathered first and handed to the model in one call. `ModelPredictor` runs a
finished run's saved model on them: the texts it has not cached are encoded, sorted once
by length (longest first) and run in batches of that order (`inference.predict_probs`), and
the probabilities are scattered back. Sorting once pads far less than sorting each part of
the work alone. The probabilities are cached in the run folder (`faithfulness_cache.json`,
`model_cache`: keyed by the model's weights, max_length, device and precision), written
once per job, so a report is computed once. `compare_faithfulness` scores a
`compare.Comparison`; its precision defaults to fp32 (what the run's test evaluation
computes), and `humal-nb compare` and the compare notebook pass `auto` (bf16 where it is
native, `inference`).

(Over 500 lines: the erasure metrics, their model runner with its cache, and IOU-F1
share the ranking and reduction rules stated here.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from humal_nb.core.errors import DataFormatError, ParameterError
from humal_nb.core.names import FAITHFULNESS_CACHE_FILE
from humal_nb.experiments.run import Run
from humal_nb.measures import analysis
from humal_nb.method import model_cache

PERCENTS = (0.01, 0.05, 0.10, 0.20, 0.50)
IOU_THRESHOLD = 0.5
SOURCES = ("human", "baseline", "humal", "random")  # the attention sources, in table order
MODELS = ("baseline", "humal")  # the models under test

#: P(label 1) of each text, given as word lists
Predictor = Callable[[Sequence[Sequence[str]]], npt.ArrayLike]

RECORD_COLUMNS = [
    "model", "source", "review_id", "label", "percent", "n_words", "k", "top", "full_prob", "pred",
    "removed_prob", "kept_prob", "comprehensiveness", "sufficiency",
]
TARGETS = {"pred": "predicted class", "label": "true label"}  # whose probability the drops are of


# ---------------------------------------------------------------------- top-k words
def top_k(n_words: int, percent: float) -> int:
    """Words in a review's top `percent`: ceil(percent * n_words), at least 1, at most n."""
    if not 0 < percent <= 1:
        raise ParameterError(f"percent must be in (0, 1], got {percent}.")
    if n_words < 1:
        raise DataFormatError("a review without words has no top words.")
    return int(min(n_words, max(1, math.ceil(percent * n_words - 1e-9))))


def top_indices(scores: npt.ArrayLike, k: int) -> np.ndarray:
    """Indices of the k highest scores, highest first; ties go to the earlier word."""
    arr = np.asarray(scores, dtype=np.float64)
    return np.argsort(-arr, kind="stable")[: max(0, int(k))]


def without(words: Sequence[str], indices: npt.ArrayLike) -> list[str]:
    """The words minus those at `indices`, in order; removing every word is refused."""
    drop = set(int(i) for i in np.asarray(indices).ravel())
    if len(drop) >= len(words):
        raise DataFormatError("removing every word: at least one word must be kept.")
    return [w for i, w in enumerate(words) if i not in drop]


def only(words: Sequence[str], indices: npt.ArrayLike) -> list[str]:
    """Only the words at `indices`, in their original order (at least one)."""
    keep = sorted(set(int(i) for i in np.asarray(indices).ravel()))
    if not keep:
        raise DataFormatError("keeping no word: at least one word must be kept.")
    return [words[i] for i in keep]


def _scores(values: npt.ArrayLike, what: str) -> np.ndarray:
    """A 1-D finite score vector (any scale: only the ranking matters)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise DataFormatError(f"{what} must be a 1-D vector of finite numbers.")
    return arr


def random_scores(lengths: Sequence[int], seed: int = 0) -> list[np.ndarray]:
    """The random-words control: uniform scores per word, drawn in review order from `seed`."""
    rng = np.random.default_rng(seed)
    return [rng.random(int(n)) for n in lengths]


# ---------------------------------------------------------------------- erasure
def _probs(predict: Predictor, texts: list[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """P(1) of every distinct text, from one call of `predict` (none for no text), in the
    order the texts first appear."""
    unique = list(dict.fromkeys(texts))
    if not unique:
        return {}
    values = np.asarray(predict([list(t) for t in unique]), dtype=np.float64)
    if values.shape != (len(unique),):
        raise DataFormatError(f"the predictor returned {values.shape} probabilities for {len(unique)} texts.")
    return dict(zip(unique, values.tolist()))


def _plans(
    words_list: Sequence[Sequence[str]], sources: Mapping[str, Sequence[npt.ArrayLike]],
    percents: Sequence[float], visible: Sequence[int] | None,
) -> list[tuple]:
    """Per (source, review, percent): (source, review, percent, n, k, top indices, the
    visible words, the words without the top ones, only the top ones)."""
    plans = []
    for j, words in enumerate(words_list):
        n = len(words) if visible is None else min(int(visible[j]), len(words))
        if n < 1:
            raise DataFormatError(f"review {j} has no words the model sees.")
        seen = tuple(words[:n])
        for source, scores_list in sources.items():
            scores = _scores(scores_list[j], f"{source} attention, review {j}")
            if len(scores) != len(words):
                raise DataFormatError(f"review {j}: {source} has {len(scores)} values for {len(words)} words.")
            for percent in percents:
                k = top_k(n, percent)
                top = top_indices(scores[:n], k)
                removed = tuple(without(seen, top[: min(k, n - 1)]))
                plans.append((source, j, percent, n, k, top, seen, removed, tuple(only(seen, top))))
    return plans


def erasure_records(
    words_list: Sequence[Sequence[str]],
    sources: Mapping[str, Sequence[npt.ArrayLike]],
    predict: Predictor,
    percents: Sequence[float] = PERCENTS,
    visible: Sequence[int] | None = None,
    review_ids: Sequence[str] | None = None,
    labels: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Comprehensiveness and sufficiency of each source at each k, per review.

    Args:
        words_list: the reviews as word lists.
        sources: {source name: per review, [n_words] scores ranking its words}.
        predict: P(label 1) of a list of word lists; called once, on every distinct text
            that any source, review and k needs (whole, without its top words, only them).
        percents: the k values, as fractions of the review's (visible) words.
        visible: per review, how many leading words the model sees (None: all).
        review_ids: ids for the records (default the review's position, as a string).
        labels: the reviews' true labels, kept in the records for `target="label"` (default -1).
    Returns:
        one row per (source, review, percent): RECORD_COLUMNS but `model` (`top`: the
        top-k word indices, highest first; `*_prob`: P(1) of the whole visible review,
        without its top-k words, with only them; `pred`: the predicted class).
    """
    ids = [str(j) for j in range(len(words_list))] if review_ids is None else [str(r) for r in review_ids]
    gold = [-1] * len(words_list) if labels is None else [int(v) for v in labels]
    if len(ids) != len(words_list) or len(gold) != len(words_list) or (
            visible is not None and len(visible) != len(words_list)):
        raise DataFormatError("review_ids, labels and visible must give one value per review.")
    plans = _plans(words_list, sources, percents, visible)
    probs = _probs(predict, [t for plan in plans for t in plan[6:9]])
    rows = []
    for source, j, percent, n, k, top, seen, removed, kept in plans:
        full = probs[seen]
        pred = int(full >= 0.5)
        sign = 1.0 if pred == 1 else -1.0  # the predicted class's probability moves with P(1) or against it
        rows.append({
            "source": source, "review_id": ids[j], "label": gold[j], "percent": float(percent), "n_words": n, "k": k,
            "top": [int(i) for i in top], "full_prob": full, "pred": pred,
            "removed_prob": probs[removed], "kept_prob": probs[kept],
            "comprehensiveness": sign * (full - probs[removed]) + 0.0, "sufficiency": sign * (full - probs[kept]) + 0.0,
        })
    return pd.DataFrame(rows, columns=[c for c in RECORD_COLUMNS if c != "model"])


AOPC_COLUMNS = ["comprehensiveness", "comprehensiveness_se", "sufficiency", "sufficiency_se", "n_reviews"]


def toward(records: pd.DataFrame, target: str = "pred") -> pd.DataFrame:
    """The records with comprehensiveness and sufficiency as drops of the probability of
    the predicted class (`pred`, as recorded) or of the true label (`label`)."""
    if target not in TARGETS:
        raise ParameterError(f"target must be one of {', '.join(TARGETS)}, got {target!r}.")
    if target == "pred":
        return records
    if (records["label"] < 0).any():
        raise DataFormatError("these records have no true labels (give labels to erasure_records).")
    sign = np.where(records["label"] == 1, 1.0, -1.0)
    return records.assign(comprehensiveness=sign * (records["full_prob"] - records["removed_prob"]) + 0.0,
                          sufficiency=sign * (records["full_prob"] - records["kept_prob"]) + 0.0)


def aopc_table(records: pd.DataFrame, by: Sequence[str] = ("source",), target: str = "pred") -> pd.DataFrame:
    """AOPC: comprehensiveness and sufficiency averaged over k per review, then over reviews.

    Returns one row per group of `by`, in the records' order: the means, their standard
    errors over the reviews (std ddof=1 / sqrt(n)) and `n_reviews`; `target`: the drops
    of the predicted class's probability (`pred`, ERASER) or the true label's (`label`).
    """
    records = toward(records, target)
    keys = list(by)
    per_review = records.groupby(list(dict.fromkeys([*keys, "review_id"])), sort=False)[
        ["comprehensiveness", "sufficiency"]].mean()
    rows = []
    for key, part in per_review.groupby(level=keys, sort=False):
        n = len(part)
        se = part.std(ddof=1) / np.sqrt(n) if n > 1 else pd.Series(np.nan, index=part.columns)
        values = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        values.update({
            "comprehensiveness": float(part["comprehensiveness"].mean()), "comprehensiveness_se": float(se["comprehensiveness"]),
            "sufficiency": float(part["sufficiency"].mean()), "sufficiency_se": float(se["sufficiency"]),
            "n_reviews": n,
        })
        rows.append(values)
    return pd.DataFrame(rows, columns=[*keys, *AOPC_COLUMNS])


def percent_table(records: pd.DataFrame, by: Sequence[str] = ("source",)) -> pd.DataFrame:
    """Mean comprehensiveness and sufficiency at each k (the curves AOPC averages)."""
    keys = [*by, "percent"]
    return records.groupby(keys, sort=False)[["comprehensiveness", "sufficiency"]].mean().reset_index()


# ---------------------------------------------------------------------- IOU-F1
def spans(mask: npt.ArrayLike) -> list[tuple[int, int]]:
    """Maximal runs of selected words as (start, end), end exclusive."""
    flags = np.asarray(mask, dtype=bool)
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def span_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Shared words / words of either span."""
    shared = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - shared
    return shared / union if union > 0 else 0.0


def span_matches(predicted: Sequence[tuple[int, int]], truth: Sequence[tuple[int, int]],
                 threshold: float = IOU_THRESHOLD) -> int:
    """Predicted spans whose best IOU with a true span is >= threshold (ERASER's partial match)."""
    return sum(1 for p in predicted if max((span_iou(p, t) for t in truth), default=0.0) >= threshold)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision == 0 or recall == 0 else 2 * precision * recall / (precision + recall)


def iou_f1(
    scores_list: Sequence[npt.ArrayLike],
    maps_list: Sequence[analysis.Maps],
    percent: float | None = None,
    min_share: float = 0.5,
    threshold: float = IOU_THRESHOLD,
) -> dict[str, float | int]:
    """ERASER's IOU-F1 of a source's top words against the human consensus spans.

    Args:
        scores_list: per review, [n_words] scores (any attention source).
        maps_list: per review, its annotators' binary maps.
        percent: share of words in a predicted rationale (default: the human highlight rate).
        min_share: consensus threshold (see analysis.consensus_highlights).
        threshold: the IOU a predicted span needs to match.
    Returns:
        {`iou_f1` (micro), `iou_f1_macro`, `precision`, `recall` (micro), `percent`,
        `n_scored`}; NaN F1s when no review is scored.
    """
    if len(scores_list) != len(maps_list):
        raise DataFormatError(f"{len(scores_list)} score vectors but {len(maps_list)} reviews with maps.")
    rate = analysis.human_highlight_rate(maps_list) if percent is None else float(percent)
    tp = n_pred = n_true = 0
    precisions, recalls = [], []
    for j, (scores, maps) in enumerate(zip(scores_list, maps_list)):
        if len(maps) == 0:
            continue
        gold = analysis.consensus_highlights(maps, min_share)
        scores = _scores(scores, f"scores, review {j}")
        if len(scores) != len(gold):
            raise DataFormatError(f"review {j}: {len(scores)} scores for {len(gold)} words.")
        if gold.sum() in (0, len(gold)):
            continue
        chosen = np.zeros(len(gold), dtype=bool)
        chosen[top_indices(scores, top_k(len(gold), rate))] = True
        predicted, truth = spans(chosen), spans(gold)
        hits = span_matches(predicted, truth, threshold)
        tp, n_pred, n_true = tp + hits, n_pred + len(predicted), n_true + len(truth)
        precisions.append(hits / len(predicted))
        recalls.append(hits / len(truth))
    if not precisions:
        return {"iou_f1": float("nan"), "iou_f1_macro": float("nan"), "precision": float("nan"),
                "recall": float("nan"), "percent": rate, "n_scored": 0}
    precision, recall = tp / n_pred, tp / n_true
    return {"iou_f1": _f1(precision, recall), "iou_f1_macro": _f1(float(np.mean(precisions)), float(np.mean(recalls))),
            "precision": precision, "recall": recall, "percent": rate, "n_scored": len(precisions)}


def iou_table(maps_list: Sequence[analysis.Maps], sources: Mapping[str, Sequence[npt.ArrayLike]],
              percent: float | None = None) -> pd.DataFrame:
    """IOU-F1 of several sources (see iou_f1), one row per source."""
    rows = [{"source": name, **iou_f1(scores, maps_list, percent)} for name, scores in sources.items()]
    return pd.DataFrame(rows, columns=["source", "iou_f1", "iou_f1_macro", "precision", "recall", "percent", "n_scored"])


# ---------------------------------------------------------------------- a run's saved model
VISIBLE_PREFIX = "visible:"  # a cache entry holding how many words of a text the model sees, not a probability


class ModelPredictor:
    """P(label 1) of word lists through a finished run's saved model, cached in the run folder.

    Args:
        run_dir: a finished run folder with `model/` (its max_length is the run's).
        device: `auto`, `cpu` or `cuda`.
        batch_size: texts per forward pass (all the texts of a call sorted once by length).
        cache: read and write `faithfulness_cache.json` in the run folder (`model_cache`).
        precision: `fp32` (the default: the run's test evaluation's arithmetic), `bf16` or
            `auto` (bf16 where it is native); see `inference.effective_precision`.
        progress: a bar over the texts run, named `desc`, in the notebook or console; without
            it, on the command's terminal when `$HUMAL_PROGRESS` is "terminal".
    """

    def __init__(self, run_dir: str | Path, device: str = "auto", batch_size: int = 64, cache: bool = True,
                 precision: str = "fp32", progress: bool = False, desc: str = "faithfulness") -> None:
        from humal_nb.method.inference import check_precision, effective_precision, resolve_device

        self.run = Run.open(run_dir)
        self.run_dir = self.run.folder
        model_dir = self.run.require_model(check_files=False)  # checked when the model loads (a cache miss)
        self.device = resolve_device(device)
        check_precision(precision, self.device)
        self.precision = effective_precision(self.device, precision)
        self.max_length = self.run.config.max_length
        self.batch_size = batch_size
        self.progress, self.desc = progress, desc
        about = model_cache.cache_fields(model_dir, "faithfulness", self.max_length, self.device.type, self.precision)
        self.fingerprint = model_cache.cache_key(model_dir, "faithfulness", self.max_length, self.device.type,
                                                 self.precision)
        self.store = model_cache.KeyedCache(self.run_dir / FAITHFULNESS_CACHE_FILE if cache else None,
                                            self.fingerprint, about)
        self.computed = 0  # texts run through the model (not found in the cache)

    @property
    def cache(self) -> dict[str, float]:
        """Text key -> P(1) of every text known (read from the file or computed)."""
        return self.store.entries

    def save(self) -> None:
        """Write the cache (atomically); a read-only run folder is left as it is."""
        self.store.save()

    def visible(self, words_list: Sequence[Sequence[str]]) -> list[int]:
        """Per text, how many leading words the model sees (within max_length), kept in the
        cache beside the probabilities (so a warm report loads no tokenizer)."""
        keys = [VISIBLE_PREFIX + model_cache.text_key(w) for w in words_list]
        missing = self.store.missing(keys)
        if missing:
            counts = self.run.visible([words_list[i] for i in missing])
            self.cache.update({keys[i]: int(n) for i, n in zip(missing, counts)})
            self.save()
        return [int(self.cache[key]) for key in keys]

    def __call__(self, words_list: Sequence[Sequence[str]]) -> np.ndarray:
        keys = [model_cache.text_key(w) for w in words_list]
        missing = list(dict.fromkeys(keys[i] for i in self.store.missing(keys)))
        if missing:
            first = {key: i for i, key in reversed(list(enumerate(keys)))}
            try:
                probs = self._run([words_list[first[key]] for key in missing])
                self.cache.update({key: float(p) for key, p in zip(missing, probs)})
                self.computed += len(missing)
            finally:
                self.save()  # once per call; what an interrupted call finished is kept
        return np.array([self.cache[key] for key in keys], dtype=np.float64)

    def _run(self, words_list: list[Sequence[str]]) -> np.ndarray:
        """P(1) of texts through the model: encoded, sorted once by length, run in batches."""
        from humal_nb.core.progress import labelled_bar
        from humal_nb.method.inference import predict_probs

        encoded = self.run.encode([list(w) for w in words_list])
        model = self.run.load_model(self.device)
        with labelled_bar(len(encoded), self.desc, self.progress, unit="text") as bar:
            return predict_probs(model, self.run.tokenizer, encoded, self.device, batch_size=self.batch_size,
                                 precision=self.precision, on_batch=bar.update)


def cached_precision(run_dir: str | Path) -> str | None:
    """The precision ("fp32" or "bf16") a run folder's faithfulness cache was computed in, or None
    without one (e.g. what `humal-nb tables` reads, to reuse what `humal-nb compare` ran)."""
    precision = model_cache.stored_fields(Path(run_dir) / FAITHFULNESS_CACHE_FILE).get("precision")
    return str(precision) if precision in ("fp32", "bf16") else None


# ---------------------------------------------------------------------- two runs compared
@dataclass
class Faithfulness:
    """Erasure records of both models under test (`records`, RECORD_COLUMNS) and IOU-F1.

    `sources`: source key -> display name; `models`: model key -> display name;
    `iou`: iou_table over the same sources (keys in `source`).
    """

    records: pd.DataFrame
    iou: pd.DataFrame
    sources: dict[str, str]
    models: dict[str, str]
    percents: tuple[float, ...] = PERCENTS
    seed: int = 0
    computed: dict[str, int] = field(default_factory=dict)  # texts run per model (cache misses)
    precision: str = "fp32"  # what the models ran in (`inference.effective_precision`)
    random: list[np.ndarray] = field(default_factory=list)  # the random control's scores, per review

    def table(self, review_ids: Sequence[str] | None = None, keys: bool = False, target: str = "pred") -> pd.DataFrame:
        """AOPC per (model under test, source), of all reviews or some, toward the predicted
        class or the true label (`target`); display names unless `keys`."""
        records = self.records if review_ids is None else self.records[self.records["review_id"].isin(
            [str(r) for r in review_ids])]
        table = aopc_table(records, by=("model", "source"), target=target)
        if not keys:
            table["model"] = table["model"].map(self.models)
            table["source"] = table["source"].map(self.sources)
        return table

    def review(self, review_id: str, percent: float) -> pd.DataFrame:
        """One review at one k: per (model, source) the top words and P(1) whole, without, with only them."""
        part = self.records[(self.records["review_id"] == str(review_id)) & np.isclose(self.records["percent"], percent)]
        if part.empty:
            raise KeyError(f"review {review_id!r} at {percent:.0%} is not in these faithfulness records.")
        return part.reset_index(drop=True)


def compare_faithfulness(
    comparison: Any,
    percents: Sequence[float] = PERCENTS,
    seed: int = 0,
    models: Sequence[str] = MODELS,
    sources: Sequence[str] = SOURCES,
    device: str = "auto",
    batch_size: int = 64,
    cache: bool = True,
    progress: bool = False,
    precision: str = "fp32",
) -> Faithfulness:
    """ERASER faithfulness of human, baseline, HuMAL and random attention under each model.

    Args:
        comparison: a `compare.Comparison` (both runs need their saved `model/`).
        percents: the k values of AOPC.
        seed: the random-words control's seed.
        models: the models under test, keys of `comparison.names`.
        sources: the attention sources: `human`, `baseline`, `humal` (the saved last-layer
            word attention of that run), `random`.
        progress: a bar per model under test over the texts it runs ("faithfulness: Baseline
            ... 3954/7909 texts"; none when all are cached), in the notebook or console; without
            it, on the command's terminal when `$HUMAL_PROGRESS` is "terminal".
        precision: the models' arithmetic, `fp32` (default), `bf16` or `auto` (`ModelPredictor`).
    Returns:
        a Faithfulness: records of every model x source x review x k, and IOU-F1 per source.
    """
    frame = comparison.reviews
    words = [list(w) for w in frame["words"]]
    scores = {"human": list(frame["human"]), "baseline": list(frame["baseline"]), "humal": list(frame["humal"]),
              "random": random_scores([len(w) for w in words], seed)}
    unknown = [s for s in sources if s not in scores] + [m for m in models if m not in MODELS]
    if unknown:
        raise ParameterError(f"unknown source or model {unknown}; sources: {', '.join(SOURCES)}; models: baseline, humal.")
    chosen = {s: scores[s] for s in sources}
    parts, computed, names, ran_in = [], {}, comparison.names, "fp32"
    for which in models:
        predictor = ModelPredictor(comparison.run_dir(which), device=device, batch_size=batch_size, cache=cache,
                                   precision=precision, progress=progress, desc=f"faithfulness: {names[which]}")
        records = erasure_records(words, chosen, predictor, percents, predictor.visible(words),
                                  list(frame["review_id"]), list(frame["label"]))
        parts.append(records.assign(model=which)[RECORD_COLUMNS])
        computed[which], ran_in = predictor.computed, predictor.precision
    return Faithfulness(
        records=pd.concat(parts, ignore_index=True),
        iou=iou_table(list(frame["maps"]), chosen),
        sources={s: {"human": "human", "baseline": f"{names['baseline']} attention",
                     "humal": f"{names['humal']} attention", "random": "random words"}[s] for s in sources},
        models={m: names[m] for m in models},
        percents=tuple(percents),
        seed=seed,
        computed=computed,
        precision=ran_in,
        random=scores["random"],
    )


__all__ = [
    "Faithfulness",
    "IOU_THRESHOLD",
    "ModelPredictor",
    "PERCENTS",
    "TARGETS",
    "aopc_table",
    "cached_precision",
    "compare_faithfulness",
    "erasure_records",
    "iou_f1",
    "iou_table",
    "only",
    "percent_table",
    "random_scores",
    "span_iou",
    "span_matches",
    "spans",
    "top_indices",
    "top_k",
    "toward",
    "without",
]
