"""One run of the experiment (paper sec. IV): split, fine-tune one strategy, evaluate.

`train_and_evaluate(config)` is one run in memory; `train_with_baseline` and `save_runs`
are what the training notebook and a grid cell call (the baseline on the same subset when
`compare_baseline`); `run_experiment(config)` is one run as a function for scripts and
tests, returning exactly what `metrics.json` holds.
"""

from __future__ import annotations

import os
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import humal_nb
from humal_nb import data
from humal_nb.config import runs
from humal_nb.config.run_config import RunConfig
from humal_nb.core.names import ALIGNING_STRATEGIES, BASELINE_DIR
from humal_nb.core.paths import portable_parameters, portable_path
from humal_nb.core.progress import progress_bar
from humal_nb.data import shortcut
from humal_nb.data.selection import load_reviews, split  # noqa: F401 - also used as train.load_reviews, train.split
from humal_nb.measures import analysis
from humal_nb.method.inference import (  # noqa: F401 - also used as train.<name>
    autocast,
    check_precision,
    cpu_has_bf16,
    effective_precision,
    predict,
    resolve_device,
)
from humal_nb.method.inference import index_batches as _batches
from humal_nb.method.inference import to_device as _to
from humal_nb.method.models import HumalForSequenceClassification, build_model, check_model, load_tokenizer
from humal_nb.method.tokens import EncodedText, collate, encode_texts, padding_of, tokens_to_words


# ---------------------------------------------------------------------- set-up
# `resolve_device`, `autocast`, `predict` and the precision policy (`effective_precision`,
# `cpu_has_bf16`, `check_precision`) live in `inference` (what reading a finished run shares
# with training); they stay importable from here.
def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run repeats to the last digit."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def encode_frame(tokenizer, model: HumalForSequenceClassification, frame: pd.DataFrame, max_length: int):
    return encode_texts(
        tokenizer, model.family, list(frame["words"]), list(frame["human_attention"]), max_length=max_length
    )


# length-grouped batches sort within mega-batches of this many batches (as `Trainer`'s cap)
MEGA_BATCH_BATCHES = 50


def epoch_batches(
    lengths: list[int], batch_size: int, generator: torch.Generator, group_by_length: bool = False
) -> list[list[int]]:
    """One epoch's batches (lists of example indices), drawn with `generator`.

    Plain: a random permutation cut into batches. Grouped by length (as `Trainer`'s
    `group_by_length`): the permutation is cut into mega-batches of `MEGA_BATCH_BATCHES`
    batches, each sorted by length (longest first), cut into batches, and the batches are
    shuffled, so a batch holds reviews of similar length and pads little.
    """
    order = torch.randperm(len(lengths), generator=generator).tolist()
    if not group_by_length:
        return list(_batches(order, batch_size))
    mega = batch_size * MEGA_BATCH_BATCHES
    batches: list[list[int]] = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega], key=lambda i: -lengths[i])
        batches.extend(_batches(chunk, batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def micro_batches(index: list[int], lengths: list[int], size: int) -> list[list[int]]:
    """A batch's forward passes: the whole batch (`size` 0, or at least the batch), or the
    batch sorted by length (longest first) and cut into passes of `size` reviews, so that
    each pass pads only to its own longest review."""
    if size <= 0 or size >= len(index):
        return [index]
    ordered = sorted(index, key=lambda i: -lengths[i])
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


@dataclass
class BatchStep:
    """What one batch's backward pass measured: the sum over its rows of the CE loss, and the
    sum of the attention loss over the rows with human attention (None when not measured)
    with that row count."""

    ce_sum: float
    attention_sum: float | None
    attention_rows: int


def _has_human_tokens(text: EncodedText) -> bool:
    return sum(text.human) > 0


def backward_batch(
    model: HumalForSequenceClassification,
    tokenizer,
    encoded: list[EncodedText],
    index: list[int],
    labels: torch.Tensor,
    micro_batch_size: int,
    device: torch.device,
    lengths: list[int] | None = None,
    precision: str = "fp32",
    withheld: int = 0,
) -> BatchStep:
    """Accumulate the gradient of one batch's loss (CE mean over the batch + alpha x the
    attention loss's mean over the rows with human attention) into the parameters.

    With `micro_batch_size` n > 0 the batch runs as length-sorted passes of n reviews, each
    pass's losses weighted by its share of the batch's rows, so the gradient is the whole
    batch's (up to float rounding and dropout draws) at less padding. `lengths`: every text's
    token count, when the caller has it (training passes it once for all batches).
    `precision`: the forward pass's arithmetic (`autocast`). `withheld` > 0 (the batch's reviews
    whose rationale a budget withheld, with `attention_loss_mean: batch`): the attention loss is
    a mean over the rows with a rationale *and* those, so each rationale weighs what it weighs
    without a budget; with 0 the loss is exactly the default's.
    """
    lengths = [len(e.input_ids) for e in encoded] if lengths is None else lengths
    parts = micro_batches(index, lengths, micro_batch_size)
    total_rows = sum(_has_human_tokens(encoded[i]) for i in index)
    aligning = len(parts) > 1 and model.config.strategy in ALIGNING_STRATEGIES
    ce_sum = 0.0
    att_sum: float | None = None
    att_rows = 0
    aligning = aligning or (withheld > 0 and model.config.strategy in ALIGNING_STRATEGIES)
    for part in parts:
        batch = _to(collate([encoded[i] for i in part], *padding_of(tokenizer)), device)
        with autocast(device, precision):
            out = model(**batch, labels=labels[part].to(device))
        rows = int((batch["human_tokens"].sum(-1) > 0).sum())
        if len(parts) == 1 and not withheld:
            loss = out.loss
        else:
            loss = out.ce_loss * (len(part) / len(index))
            if aligning and rows:
                loss = loss + model.config.alpha * out.attention_loss * (rows / (total_rows + withheld))
        loss.backward()
        ce_sum += out.ce_loss.item() * len(part)
        if out.attention_loss is not None:
            att_sum = (att_sum or 0.0) + out.attention_loss.item() * rows
            att_rows += rows
    return BatchStep(ce_sum, att_sum, att_rows)


def _withheld_in(index: list[int], withheld: list[bool] | None, loss_mean: str) -> int:
    """How many of the batch's reviews had their rationale withheld by the budget, where the
    attention loss's mean counts them (`attention_loss_mean: batch`); 0 otherwise."""
    if loss_mean != "batch" or not withheld:
        return 0
    return sum(withheld[i] for i in index)


# ---------------------------------------------------------------------- training
def make_optimizer(model: torch.nn.Module, learning_rate: float, weight_decay: float = 0.01) -> torch.optim.Optimizer:
    """AdamW over all parameters, with torch's fused kernel (CPU and CUDA), as `Trainer` uses.
    `weight_decay` 0 is plain Adam (the paper's optimizer); 0.01 is AdamW's default."""
    return torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay, fused=True)


def train_model(
    model: HumalForSequenceClassification,
    tokenizer,
    encoded: list[EncodedText],
    labels: list[int],
    config: RunConfig,
    device: torch.device,
    progress: bool = True,
    withheld: list[bool] | None = None,
) -> list[dict[str, float]]:
    """Fine-tune all parameters with AdamW; return the per-epoch mean losses (paper Fig. 5).
    `withheld`: per review, whether an annotation budget withheld its rationale (counted by
    `attention_loss_mean: batch`)."""
    model.to(device).train()
    optimizer = make_optimizer(model, config.learning_rate, config.weight_decay)
    generator = torch.Generator().manual_seed(config.model_seed())
    label_tensor = torch.tensor(labels, dtype=torch.long)
    history = []
    n_batches = (len(encoded) + config.batch_size - 1) // config.batch_size
    bar = progress_bar(config.epochs * n_batches, f"train {config.strategy}", progress)
    lengths = [len(e.input_ids) for e in encoded]
    for epoch in range(config.epochs):
        started = time.perf_counter()
        ce_sum = att_sum = 0.0
        att_rows = real_tokens = padded_tokens = 0
        for index in epoch_batches(lengths, config.batch_size, generator, config.group_by_length):
            real_tokens += sum(lengths[i] for i in index)
            padded_tokens += sum(len(part) * max(lengths[i] for i in part)
                                 for part in micro_batches(index, lengths, config.micro_batch_size))
            optimizer.zero_grad(set_to_none=True)
            step = backward_batch(model, tokenizer, encoded, index, label_tensor, config.micro_batch_size, device,
                                  lengths, config.precision,
                                  withheld=_withheld_in(index, withheld, config.attention_loss_mean))
            optimizer.step()
            ce_sum += step.ce_sum
            if step.attention_sum is not None:
                # the loss is a mean over the rows with human attention: weight it by them
                att_sum += step.attention_sum
                att_rows += step.attention_rows
            bar.update(1)
            bar.set_postfix_str(f"epoch {epoch + 1}/{config.epochs}, CE loss {step.ce_sum / len(index):.3f}"
                                + (f", attention loss {step.attention_sum / max(step.attention_rows, 1):.3f}"
                                   if step.attention_sum is not None else ""))
        history.append({
            "epoch": epoch + 1,
            "ce_loss": ce_sum / len(encoded),
            "attention_loss": att_sum / att_rows if att_rows else None,
            "tokens": real_tokens,
            "padded_tokens": padded_tokens,
            "seconds": time.perf_counter() - started,
        })
    bar.close()
    return history


def flipped_auc(
    model: HumalForSequenceClassification, tokenizer, test: pd.DataFrame, config: RunConfig, device: torch.device
) -> float:
    """Test AUC with every test text carrying the other class's planted token (`data.shortcut`):
    the clean AUC minus this is the model's reliance on the shortcut."""
    flipped = shortcut.flipped_test(test)
    probs, _ = predict(model, tokenizer, encode_frame(tokenizer, model, flipped, config.max_length), device,
                       precision=config.precision)
    labels = flipped["label"].to_numpy()
    return float(roc_auc_score(labels, probs)) if len(set(labels)) == 2 else float("nan")


def evaluate(
    model: HumalForSequenceClassification,
    tokenizer,
    test: pd.DataFrame,
    config: RunConfig,
    device: torch.device,
    encoded: list | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Test metrics (AUC, accuracy, F1) and the attention analysis, plus per-review records.
    `encoded`: the test reviews already encoded (`encode_frame`), else they are encoded here."""
    if encoded is None:
        encoded = encode_frame(tokenizer, model, test, config.max_length)
    probs, token_rows = predict(model, tokenizer, encoded, device, precision=config.precision)
    labels = test["label"].to_numpy()
    preds = (probs >= 0.5).astype(int)
    metrics = {
        "auc": float(roc_auc_score(labels, probs)) if len(set(labels)) == 2 else float("nan"),
        "accuracy": float(accuracy_score(labels, preds)),
        "f1": float(f1_score(labels, preds, pos_label=config.minority_label, zero_division=0)),
    }
    machine_words = [
        tokens_to_words(row, enc.word_ids, enc.n_words) for row, enc in zip(token_rows, encoded)
    ]
    human_words = [np.asarray(h, dtype=float) for h in test["human_attention"]]
    cosines = [analysis.cosine_similarity(h, m) for h, m in zip(human_words, machine_words)]
    metrics["attention"] = {
        "layer": "last",
        "cosine_to_human": float(np.mean(cosines)),
        "cosine_to_human_std": float(np.std(cosines)),
        "high_attention_rate": float(analysis.high_attention_rate(machine_words, rule="std")),
        "human_high_attention_rate": float(analysis.high_attention_rate(human_words, rule="std")),
        "human_highlight_rate": float(analysis.human_highlight_rate(
            [m for maps in test["maps"] for m in maps]
        )),
    }
    records = [
        {
            "review_id": str(row.review_id),
            "label": int(row.label),
            "prob": float(p),
            "length_group": row.length_group,
            "words": list(row.words),
            "human": [float(v) for v in h],
            "machine": [float(v) for v in m],
            "maps": [list(map(int, mp)) for mp in row.maps],
        }
        for row, p, h, m in zip(test.itertuples(), probs, human_words, machine_words)
    ]
    return metrics, records


# ---------------------------------------------------------------------- one run
@dataclass
class RunResult:
    """Everything one run produced: metrics (metrics.json), per-review records, the model."""

    metrics: dict[str, Any]
    records: list[dict[str, Any]]
    model: HumalForSequenceClassification
    tokenizer: Any


def train_and_evaluate(
    config: RunConfig | dict,
    progress: bool = True,
    reviews: pd.DataFrame | None = None,
) -> RunResult:
    """Split, train and evaluate one strategy, in memory. Bad parameters fail before training."""
    if isinstance(config, dict):
        config = RunConfig.from_dict(config)
    device = resolve_device(config.device)
    check_precision(config.precision, device)
    check_model(config.model, config.max_length)
    reviews = load_reviews(config) if reviews is None else reviews
    train, test = split(config, reviews)
    train = data.apply_rationales(
        train, config.rationale_source, config.rationale_fraction, seed=config.seed, bootstrap=config.bootstrap,
        selection=config.rationale_selection, minority_label=config.minority_label,
    )
    train = shortcut.plant_shortcut(train, config.shortcut_rate, seed=config.seed, bootstrap=config.bootstrap)

    seed_everything(config.model_seed())
    model = build_model(
        config.model,
        strategy=config.strategy,
        alpha=config.alpha,
        attention_loss=config.attention_loss,
        an_inference=config.an_inference,
        attention_path=config.attention_path,
    )
    tokenizer = load_tokenizer(config.model)
    encoded = encode_frame(tokenizer, model, train, config.max_length)
    test_encoded = encode_frame(tokenizer, model, test, config.max_length)  # bad test data fails before training

    started = time.perf_counter()
    history = train_model(model, tokenizer, encoded, list(train["label"]), config, device, progress,
                          withheld=data.withheld_rows(train))
    train_seconds = time.perf_counter() - started
    scores, records = evaluate(model, tokenizer, test, config, device, encoded=test_encoded)
    if config.shortcut_rate > 0:
        scores["auc_flipped"] = flipped_auc(model, tokenizer, test, config, device)
    metrics = run_metrics(config, scores, train, test, history, train_seconds, device)
    return RunResult(metrics, records, model, tokenizer)


def run_metrics(
    config: RunConfig,
    scores: dict[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    history: list[dict[str, Any]],
    train_seconds: float,
    device: torch.device,
) -> dict[str, Any]:
    """What `metrics.json` holds: the cell, the test scores, the training history and cost,
    the parameters and the versions."""
    return {
        "strategy": config.strategy,
        "model": config.model,
        "data_size": config.data_size,
        "imbalance_ratio": config.imbalance_ratio,
        "minority_label": config.minority_label,
        "length_group": config.length_group,
        "bootstrap": config.bootstrap,
        "seed": config.seed,
        "test_seed": config.test_seed,
        "auc": scores["auc"],
        "accuracy": scores["accuracy"],
        "f1": scores["f1"],
        "n_train": int(len(train)),
        "n_train_minority": int((train["label"] == config.minority_label).sum()),
        "n_test": int(len(test)),
        "epochs": config.epochs,
        "alpha": config.alpha,
        "attention_loss": config.attention_loss,
        "rationale_source": config.rationale_source,
        "rationale_fraction": config.rationale_fraction,
        "rationale_selection": config.rationale_selection,
        "attention_loss_mean": config.attention_loss_mean,
        "n_train_rationales": data.count_rationales(train),
        "shortcut_rate": config.shortcut_rate,
        **({"auc_flipped": scores["auc_flipped"], "shortcut_reliance": scores["auc"] - scores["auc_flipped"],
            "n_train_shortcut": shortcut.count_planted(train)} if "auc_flipped" in scores else {}),
        "train_seconds": train_seconds,
        "train_tokens": sum(h["tokens"] for h in history),
        "train_padded_tokens": sum(h["padded_tokens"] for h in history),
        "group_by_length": config.group_by_length,
        "device": device.type,
        "precision": effective_precision(device, config.precision),
        "history": history,
        "attention": scores["attention"],
        "parameters": config.to_dict(),
        "versions": {
            "humal_nb": humal_nb.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }


def shared_metrics(metrics: dict[str, Any], out: Path) -> dict[str, Any]:
    """`metrics` as `metrics.json` records them: every path relative to the run's folder `out`
    (its own `out_dir` is "."), or a model folder's name; no absolute path of this machine."""
    shared = dict(metrics)
    parameters = dict(metrics.get("parameters") or {})
    if parameters.get("out_dir"):
        parameters["out_dir"] = os.path.abspath(parameters["out_dir"])  # relative to where it ran
    shared["parameters"] = portable_parameters(parameters, out)
    if isinstance(shared.get("model"), str):
        shared["model"] = portable_path(shared["model"], out)
    return shared


def save_run(result: RunResult, out_dir: str | Path, save_model: bool = True) -> Path:
    """Write a run folder: attention.json, model/ (optional), then metrics.json atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs.write_json(out / runs.ATTENTION_FILE, {"strategy": result.metrics["strategy"], "reviews": result.records})
    if save_model:
        from humal_nb.experiments.model_card import class_names, write_model_card

        config = getattr(result.model, "config", None)
        if config is not None:  # class names for pipelines and the Hub (the weights do not change)
            config.id2label = class_names(result.metrics)
            config.label2id = {name: label for label, name in config.id2label.items()}
        result.model.save_pretrained(out / runs.MODEL_DIR)
        result.tokenizer.save_pretrained(out / runs.MODEL_DIR)

        write_model_card(out / runs.MODEL_DIR, result.metrics)  # model/README.md: what the model is, how to load it
    runs.write_json(out / runs.METRICS_FILE, shared_metrics(result.metrics, out))  # last: marks the run finished
    return out


def train_with_baseline(
    config: RunConfig, progress: bool = False, reviews: pd.DataFrame | None = None
) -> tuple[RunResult, RunResult | None]:
    """Train the run's strategy and, with `compare_baseline`, the baseline on the same subset
    (what the training notebook and a grid cell do). Returns (result, baseline or None);
    nothing is written (`save_runs` does that)."""
    reviews = load_reviews(config) if reviews is None else reviews
    baseline = None
    if config.compare_baseline and config.strategy != "baseline":
        # the baseline reads no rationale: it is the same run whatever the arm or budget
        plain = config.replace(strategy="baseline", rationale_source="human", rationale_fraction=1.0,
                               rationale_selection="stratified", attention_loss_mean="rationales")
        baseline = train_and_evaluate(plain, progress=progress, reviews=reviews)
    result = train_and_evaluate(config, progress=progress, reviews=reviews)
    return result, baseline


def save_runs(config: RunConfig, result: RunResult, baseline: RunResult | None = None) -> Path | None:
    """Write the run folder (`config.out_dir`; nothing when it is empty): the baseline into
    `baseline/` first, then the strategy, whose `metrics.json` is the last file written,
    so it exists only once the whole run has ended."""
    if not config.out_dir:
        return None
    out = Path(config.out_dir)
    if baseline is not None:
        save_run(baseline, out / BASELINE_DIR, save_model=config.save_model)
    save_run(result, out, save_model=config.save_model)
    return out


def run_experiment(
    config: RunConfig | dict,
    out_dir: str | Path | None = None,
    progress: bool = True,
    reviews: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """One run as a function: returns exactly what `metrics.json` holds.

    Writes the run folder when `out_dir` (or `config.out_dir`) is set.
    """
    if isinstance(config, dict):
        config = RunConfig.from_dict(config)
    result = train_and_evaluate(config, progress=progress, reviews=reviews)
    out = out_dir or config.out_dir
    if out:
        save_run(result, out, save_model=config.save_model)
    return result.metrics
