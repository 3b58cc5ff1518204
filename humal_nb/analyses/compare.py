"""Two finished runs joined per test review (paper sec. V-E): what the attention explorer,
the compare notebook and its report read.

- `load_comparison(baseline_dir, humal_dir)`: both runs' `attention.json` (the per-run
  attention cache) joined on `review_id` into one DataFrame: words, label, length group,
  human and both models' last-layer word attention, probabilities and prediction errors.
- `filter_reviews`, `example_reviews`: the reviews a filter keeps, and examples taken in
  turn from the prediction-error groups.
- Summaries through `humal_nb.measures.analysis`: `position_table` (Fig. 6), `rates_table`
  (binarized high attention; paper: humans 13-21 %, BERT about 5 %), `cosine_summary`
  (Table V), `plausibility_summary`.
- Beyond plausibility, from the runs' saved models (`humal_nb.analyses.model_attention`):
  `faithfulness` (ERASER comprehensiveness/sufficiency of human, baseline, HuMAL and
  random attention, `humal_nb.analyses.faithfulness`), `plausibility_faithfulness`,
  `review_erasure` (one review with its top words removed), `rollout_summary`
  (attention rollout, `humal_nb.method.rollout`).
- `resolve_runs` finds the two runs (or trains a small pair, `small_runs.train_small_runs`);
  `compare_report` executes `notebooks/compare_attention.ipynb` and exports its report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humal_nb.analyses import model_attention
from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.core.paths import relative_base
from humal_nb.experiments import notebooks
from humal_nb.experiments.run import Run, read_attention
from humal_nb.measures import analysis
from humal_nb.measures.stats import STRATEGY_LABELS

COMPARE_NOTEBOOK = notebooks.NOTEBOOKS_DIR / runs.COMPARE_NOTEBOOK_FILE
COMPARE_REPORT = runs.COMPARE_REPORT_FILE
# what the exported report shows where the live explorer is
WIDGET_NOTE = (
    '<p class="humal-note"><em>The interactive explorer is shown when the notebook runs live '
    "(JupyterLab, or <code>voila notebooks/compare_attention.ipynb</code>); this report holds "
    "its static versions below.</em></p>"
)

# prediction-error filters: key -> label shown (see filter_reviews)
ERROR_FILTERS: dict[str, str] = {
    "any": "all reviews",
    "baseline": "baseline wrong",
    "humal": "HuMAL wrong",
    "both": "both wrong",
    "baseline_only": "only baseline wrong",
    "humal_only": "only HuMAL wrong",
    "neither": "both right",
}

COLUMNS = [
    "review_id", "label", "length_group", "n_words", "words", "maps", "human",
    "baseline", "humal", "baseline_prob", "humal_prob", "baseline_pred", "humal_pred",
    "baseline_wrong", "humal_wrong", "errors",
]


# ---------------------------------------------------------------------- the joined runs
@dataclass
class Comparison:
    """Two runs on the same test set, one row per test review (`reviews`, see COLUMNS).

    `baseline` / `humal` columns hold each model's last-layer word attention (lists of
    float over the review's words, sum 1); `human` the human word attention; `maps` the
    kept annotators' binary maps; `errors` is `none`, `baseline`, `humal` or `both`.
    `metrics` and `strategies` hold each run's metrics.json and strategy.
    """

    reviews: pd.DataFrame
    baseline_dir: Path
    humal_dir: Path
    baseline_name: str = "Baseline"
    humal_name: str = "HuMAL-AL"
    metrics: dict[str, dict] = field(default_factory=dict)
    strategies: dict[str, str] = field(default_factory=lambda: {"baseline": "baseline", "humal": "al"})

    def __len__(self) -> int:
        return len(self.reviews)

    @property
    def names(self) -> dict[str, str]:
        """Column -> display name: {"baseline": "Baseline", "humal": "HuMAL-AL"}."""
        return {"baseline": self.baseline_name, "humal": self.humal_name}

    def review(self, review_id: str) -> pd.Series:
        """One review's row by its id."""
        match = self.reviews.index[self.reviews["review_id"] == str(review_id)]
        if len(match) == 0:
            raise KeyError(f"review {review_id!r} is not in the test set of these runs.")
        return self.reviews.loc[match[0]]

    def run_dir(self, which: str) -> Path:
        """The run folder of `baseline` or `humal`."""
        if which not in ("baseline", "humal"):
            raise ParameterError(f"which must be 'baseline' or 'humal', got {which!r}.")
        return self.baseline_dir if which == "baseline" else self.humal_dir


def _display_name(strategy: str, run_dir: Path) -> str:
    return STRATEGY_LABELS.get(strategy, strategy or run_dir.name)


def _joined_row(rid: str, b: dict, h: dict, baseline_dir: Path, humal_dir: Path) -> dict[str, Any]:
    """One test review's row of a Comparison from the two runs' records (checked to agree)."""
    if list(b["words"]) != list(h["words"]):
        raise DataFormatError(
            f"review {rid!r} has different words in {baseline_dir} and {humal_dir}: "
            "the runs do not share the same test set."
        )
    if len(b["human"]) != len(h["human"]) or not np.allclose(b["human"], h["human"], atol=1e-9):
        raise DataFormatError(
            f"review {rid!r} has different human attention in {baseline_dir} and {humal_dir}: "
            "the runs used different agreement or human_attention parameters."
        )
    label = int(h["label"])
    b_pred, h_pred = int(float(b["prob"]) >= 0.5), int(float(h["prob"]) >= 0.5)
    b_wrong, h_wrong = b_pred != label, h_pred != label
    return {
        "review_id": rid,
        "label": label,
        "length_group": h.get("length_group") or "",
        "n_words": len(h["words"]),
        "words": list(h["words"]),
        "maps": [list(m) for m in h.get("maps", [])],
        "human": [float(v) for v in h["human"]],
        "baseline": [float(v) for v in b["machine"]],
        "humal": [float(v) for v in h["machine"]],
        "baseline_prob": float(b["prob"]),
        "humal_prob": float(h["prob"]),
        "baseline_pred": b_pred,
        "humal_pred": h_pred,
        "baseline_wrong": b_wrong,
        "humal_wrong": h_wrong,
        "errors": {(False, False): "none", (True, False): "baseline", (False, True): "humal"}.get(
            (b_wrong, h_wrong), "both"),
    }


def load_comparison(baseline_dir: str | Path, humal_dir: str | Path) -> Comparison:
    """Join two finished runs' per-review records (their `attention.json`) on `review_id`.

    Args:
        baseline_dir: run folder of the reference model (usually the plain baseline).
        humal_dir: run folder of the HuMAL model, evaluated on the same test set.
    Returns:
        a Comparison, reviews in the HuMAL run's test order.
    Raises:
        DataNotFoundError naming the folder without `attention.json`; DataFormatError
        when the runs do not share the same test set (ids, words or human attention).
    """
    baseline_dir, humal_dir = Path(baseline_dir).resolve(), Path(humal_dir).resolve()
    base_cache, humal_cache = read_attention(baseline_dir), read_attention(humal_dir)
    base = {str(r["review_id"]): r for r in base_cache["reviews"]}
    humal = {str(r["review_id"]): r for r in humal_cache["reviews"]}
    only_base, only_humal = sorted(set(base) - set(humal)), sorted(set(humal) - set(base))
    if only_base or only_humal:
        raise DataFormatError(
            f"the runs do not share the same test set: {len(only_base)} review(s) only in {baseline_dir} "
            f"(e.g. {only_base[:3]}), {len(only_humal)} only in {humal_dir} (e.g. {only_humal[:3]}). "
            "Compare runs trained with the same data, n_test, test_seed and length_group."
        )
    rows = [_joined_row(rid, base[rid], h, baseline_dir, humal_dir) for rid, h in humal.items()]
    metrics = {}
    for which, folder in (("baseline", baseline_dir), ("humal", humal_dir)):
        metrics[which] = Run.open(folder).metrics if runs.is_complete(folder) else {}
    base_name = _display_name(base_cache.get("strategy", ""), baseline_dir)
    humal_name = _display_name(humal_cache.get("strategy", ""), humal_dir)
    if base_name == humal_name:
        base_name, humal_name = f"{base_name} ({baseline_dir.name})", f"{humal_name} ({humal_dir.name})"
    return Comparison(
        reviews=pd.DataFrame(rows, columns=COLUMNS),
        baseline_dir=baseline_dir,
        humal_dir=humal_dir,
        baseline_name=base_name,
        humal_name=humal_name,
        metrics=metrics,
        strategies={"baseline": str(base_cache.get("strategy", "")), "humal": str(humal_cache.get("strategy", ""))},
    )


def filter_reviews(
    reviews: pd.DataFrame,
    label: int | None = None,
    length_group: str | None = None,
    errors: str = "any",
) -> pd.DataFrame:
    """The reviews matching a label, a length group and a prediction-error filter.

    Args:
        reviews: `Comparison.reviews`.
        label: 0 or 1, None for both.
        length_group: `yelp50`, `yelp100`, `yelp200`, None (or "") for all.
        errors: a key of ERROR_FILTERS (`any`, `baseline`, `humal`, `both`,
            `baseline_only`, `humal_only`, `neither`).
    """
    if errors not in ERROR_FILTERS:
        raise ParameterError(f"errors filter {errors!r} is unknown; valid: {', '.join(ERROR_FILTERS)}.")
    keep = pd.Series(True, index=reviews.index)
    if label is not None:
        keep &= reviews["label"] == int(label)
    if length_group:
        keep &= reviews["length_group"] == length_group
    b, h = reviews["baseline_wrong"].astype(bool), reviews["humal_wrong"].astype(bool)
    keep &= {
        "any": pd.Series(True, index=reviews.index),
        "baseline": b,
        "humal": h,
        "both": b & h,
        "baseline_only": b & ~h,
        "humal_only": ~b & h,
        "neither": ~b & ~h,
    }[errors]
    return reviews[keep]


def example_reviews(comparison: Comparison, n: int) -> pd.DataFrame:
    """`n` reviews to show as examples: taken in turn from the error groups (only the
    baseline wrong, only HuMAL wrong, both wrong, both right), test order within each."""
    frame = comparison.reviews
    groups = [frame[frame["errors"] == e] for e in ("baseline", "humal", "both", "none")]
    picked: list[int] = []
    for k in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if k < len(group) and len(picked) < n:
                picked.append(group.index[k])
    return frame.loc[picked]


# ---------------------------------------------------------------------- summaries (sec. V-E)
def _subset(comparison: Comparison, reviews: pd.DataFrame | None) -> pd.DataFrame:
    return comparison.reviews if reviews is None else reviews


def _models(comparison: Comparison, frame: pd.DataFrame) -> dict[str, list]:
    return {comparison.baseline_name: list(frame["baseline"]), comparison.humal_name: list(frame["humal"])}


def position_table(comparison: Comparison, n_bins: int = 10, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean word attention by relative position for human, baseline and HuMAL (Fig. 6).

    Returns `analysis.position_curves`: `source`, `bin`, `position`, `attention`
    (1.0 = uniform attention). `reviews`: a subset of `comparison.reviews` (default all).
    """
    frame = _subset(comparison, reviews)
    return analysis.position_curves({"human": list(frame["human"]), **_models(comparison, frame)}, n_bins=n_bins)


def rates_table(comparison: Comparison, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """Binarized high-attention rates of humans and both models (paper sec. V-E).

    Columns: `source`; `highlight_rate` (humans only: the share of words an annotator
    highlighted, the paper's 13-21 %); `rate_std` (share of words above the review's mean
    + 1 std; for humans, of the summed-maps vector); `rate_iqr` (Tukey's rule); `paper`
    (the paper's figure: humans 13-21 %, BERT about 5 %).
    """
    frame = _subset(comparison, reviews)
    sources = {"human": list(frame["human"]), **_models(comparison, frame)}
    paper = {"human": "13-21 % highlighted"}
    if comparison.strategies.get("baseline") == "baseline":
        paper[comparison.baseline_name] = "about 5 % (BERT, mean + 1 std)"
    rows = [
        {
            "source": name,
            "highlight_rate": analysis.human_highlight_rate(list(frame["maps"])) if name == "human" else np.nan,
            "rate_std": analysis.high_attention_rate(values, rule="std"),
            "rate_iqr": analysis.high_attention_rate(values, rule="iqr"),
            "paper": paper.get(name, ""),
        }
        for name, values in sources.items()
    ]
    return pd.DataFrame(rows, columns=["source", "highlight_rate", "rate_std", "rate_iqr", "paper"])


def cosine_summary(comparison: Comparison, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean (std) cosine similarity of each model's word attention to the human's (Table V)."""
    frame = _subset(comparison, reviews)
    return analysis.cosine_table(list(frame["human"]), _models(comparison, frame))


def plausibility_summary(comparison: Comparison, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """ERASER-style plausibility (AUPRC, token F1) of each model against the human consensus."""
    frame = _subset(comparison, reviews)
    return analysis.plausibility_table(list(frame["maps"]), _models(comparison, frame))


# ---------------------------------------------------------------------- rollout and faithfulness
ROLLOUT_READINGS = {"last": "last layer (eq. 1)", "first": "first layer", "rollout": "rollout"}


def has_models(comparison: Comparison) -> bool:
    """Whether both runs kept their saved `model/` (layers, rollout and faithfulness need it)."""
    return all(model_attention.model_shape(comparison.run_dir(w)) is not None for w in ("baseline", "humal"))


def machine_readings(comparison: Comparison, which: str, progress: bool = False,
                     precision: str = "fp32") -> dict[str, list[np.ndarray]]:
    """Every test review's first-layer, last-layer and rollout word attention through one
    run's saved model (`rollout.word_readings`, batched, in `precision`; cached in this process
    and in the run folder, `model_attention.readings`), with a progress bar "rollout: Baseline"
    (`progress.progress_as`: in the notebook or console when `progress`, else on the command's
    terminal under `$HUMAL_PROGRESS`)."""
    from humal_nb.core.progress import progress_as

    words = tuple(tuple(str(w) for w in ws) for ws in comparison.reviews["words"])
    with progress_as(f"rollout: {comparison.names[which]}", progress):
        return model_attention.readings(str(comparison.run_dir(which)), words, precision=precision)


def rollout_summary(comparison: Comparison, reviews: pd.DataFrame | None = None, progress: bool = False,
                    precision: str = "fp32") -> pd.DataFrame:
    """Cosine to human (mean, std) and IOU-F1 of each model's attention read three ways:
    the saved last layer (eq. 1), the first layer and attention rollout; a last row gives
    uniform attention (every word alike) as the reference (rollout spreads attention).
    `progress`, `precision`: see `machine_readings`."""
    from humal_nb.analyses.faithfulness import iou_f1

    frame = _subset(comparison, reviews)
    positions = [comparison.reviews.index.get_loc(i) for i in frame.index]
    rate = analysis.human_highlight_rate(list(comparison.reviews["maps"]))  # IOU-F1's top words: the whole test set's
    rows = []
    for which, name in comparison.names.items():
        readings = machine_readings(comparison, which, progress, precision)
        for key, label in ROLLOUT_READINGS.items():
            values = list(frame[which]) if key == "last" else [readings[key][p] for p in positions]
            cos = analysis.cosines(list(frame["human"]), values, name)
            rows.append({"model": name, "reading": label, "cosine_mean": float(cos.mean()),
                         "cosine_std": float(cos.std()), "iou_f1": iou_f1(values, list(frame["maps"]), rate)["iou_f1"],
                         "n": len(cos)})
    uniform = analysis.cosines(list(frame["human"]), [np.ones(n) / n for n in frame["n_words"]])
    rows.append({"model": "reference", "reading": "uniform (every word alike)", "cosine_mean": float(uniform.mean()),
                 "cosine_std": float(uniform.std()), "iou_f1": np.nan, "n": len(uniform)})
    return pd.DataFrame(rows, columns=["model", "reading", "cosine_mean", "cosine_std", "iou_f1", "n"])


def faithfulness(comparison: Comparison, seed: int = 0, **options: Any) -> Any:
    """ERASER faithfulness of human, baseline, HuMAL and random attention under each model
    (`faithfulness.compare_faithfulness`, whose `progress` shows a bar per model), or None
    when a run has no saved model."""
    from humal_nb.analyses.faithfulness import compare_faithfulness

    return compare_faithfulness(comparison, seed=seed, **options) if has_models(comparison) else None


def plausibility_faithfulness(comparison: Comparison, faith: Any, reviews: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model under test and attention source: plausibility (IOU-F1, AUPRC, token F1
    against the annotators) beside faithfulness (AOPC comprehensiveness, sufficiency),
    the latter toward the predicted class and toward the true label (`target`)."""
    from humal_nb.analyses.faithfulness import TARGETS, iou_f1

    frame = _subset(comparison, reviews)
    positions = [comparison.reviews.index.get_loc(i) for i in frame.index]
    random, rate = faith.random, float(faith.iou["percent"].iloc[0])  # the whole test set's highlight rate
    plausible = {}
    for key in faith.sources:
        values = [random[p] for p in positions] if key == "random" else list(frame[key])
        plausible[key] = {**analysis.plausibility(values, list(frame["maps"]), name=key),
                          "iou_f1": iou_f1(values, list(frame["maps"]), percent=rate)["iou_f1"]}
    ids = list(frame["review_id"])
    table = pd.concat([faith.table(ids, keys=True, target=t).assign(target=name) for t, name in TARGETS.items()],
                      ignore_index=True)
    for column in ("iou_f1", "auprc", "token_f1"):
        table[column] = [plausible[s][column] for s in table["source"]]
    table["model"], table["source"] = table["model"].map(faith.models), table["source"].map(faith.sources)
    return table[["target", "model", "source", "iou_f1", "auprc", "token_f1", "comprehensiveness",
                  "comprehensiveness_se", "sufficiency", "n_reviews"]]


def review_erasure(comparison: Comparison, faith: Any, review_id: str, percent: float = 0.2) -> pd.DataFrame:
    """One review with its top words removed: per model under test and attention source,
    the top-k % words, P(1) of the whole review, without them and with only them, and
    whether removing them flips the prediction."""
    words = list(comparison.review(review_id)["words"])
    part = faith.review(review_id, percent)
    return pd.DataFrame({
        "model": part["model"].map(faith.models),
        "source": part["source"].map(faith.sources),
        "removed_words": [" ".join(words[i] for i in sorted(top[: min(k, n - 1)]))
                      for top, k, n in zip(part["top"], part["k"], part["n_words"])],
        "full_prob": part["full_prob"],
        "removed_prob": part["removed_prob"],
        "kept_prob": part["kept_prob"],
        "flips": (part["removed_prob"] >= 0.5).astype(int) != part["pred"],
    })


# ---------------------------------------------------------------------- finding or training runs
def _existing(path: str | Path) -> Path:
    """A folder given relative to the working directory, else to the checkout's root (in a
    checkout) or the folder the command started in (`paths.relative_base`)."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists():
        return path.resolve()
    return (relative_base() / path).resolve()


def train_small_runs(out_dir: str | Path, strategy: str = "al", reuse: bool = True, **overrides: Any) -> tuple[Path, Path]:
    """`small_runs.train_small_runs` (a tiny HuMAL run and its baseline), with `out_dir` looked
    up from the working directory, then from the repository root. Returns (baseline, HuMAL) folders."""
    from humal_nb.experiments.small_runs import (
        train_small_runs as train_pair,  # training code: only when asked to train
    )

    return train_pair(_existing(out_dir), strategy, reuse, **overrides)


def resolve_runs(
    baseline_run: str | Path = "",
    humal_run: str | Path = "",
    out_dir: str | Path = "outputs/compare",
    **small_run: Any,
) -> tuple[Path, Path]:
    """The two run folders the explorer compares (the notebook's parameters).

    Both given: those. Only `humal_run`: its `baseline/` subfolder (what
    `compare_baseline: true` writes). Neither: a tiny pair trained into `out_dir`
    (`train_small_runs(out_dir, **small_run)`). Relative paths are looked up from the
    working directory, then from the repository root.
    """
    if baseline_run and humal_run:
        return _existing(baseline_run), _existing(humal_run)
    if humal_run:
        humal = _existing(humal_run)
        baseline = humal / "baseline"
        if not (baseline / runs.ATTENTION_FILE).is_file():
            raise DataNotFoundError(
                f"humal_run {str(humal)!r} has no baseline/ run beside it (train it with compare_baseline: true), "
                "so give baseline_run too."
            )
        return baseline, humal
    if baseline_run:
        raise ParameterError("baseline_run is given but humal_run is empty: give both, or neither to train a small pair.")
    return train_small_runs(out_dir, **small_run)


# ---------------------------------------------------------------------- the report
def compare_report(out_dir: str | Path, parameters: Mapping[str, Any] | None = None, progress: bool = False) -> Path:
    """Execute `compare_attention.ipynb` with papermill into `out_dir` and export it.

    Returns the HTML report, `out_dir/compare_report.html` (the executed notebook is
    `out_dir/compare_attention.ipynb`). With `progress`, the kernel shows its long steps
    (faithfulness, rollout) as progress bars on this command's terminal; the report holds none.
    """
    from humal_nb.core.progress import terminal_progress

    out = Path(out_dir).expanduser().resolve()
    values = {"out_dir": str(out), **dict(parameters or {}), "progress": False}  # no bar widget in the report
    with terminal_progress(progress):  # the kernel's bars replace papermill's cell bar
        return notebooks.execute_and_export(COMPARE_NOTEBOOK, out, values, COMPARE_REPORT,
                                            title="HuMAL: human vs machine attention", widget_note=WIDGET_NOTE)
