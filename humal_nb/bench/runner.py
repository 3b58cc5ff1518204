"""`humal-nb bench`: what HuMAL-AL's attention loss costs per training step.

In one process, on the default model (MiniLM-L6) and one batch of 32 real Yelp-HAT
reviews padded/truncated to 128 tokens, warm training steps (forward + backward + AdamW
step, exactly as `humal_nb.experiments.train` does them) are timed for:

- `baseline`: plain fine-tuning (cross-entropy only, no attention read at all);
- `al_naive`: HuMAL-AL reading attention through `output_attentions` (eager attention
  in every layer, all attention matrices kept);
- `al_efficient`: HuMAL-AL reading only the classification token's row from the last
  layer's query/key projections (fused attention kept; `humal_nb.method.attention`);
- `trainer`: the Hugging Face `Trainer` fine-tuning the same base model
  (`AutoModelForSequenceClassification`, sdpa) on the same batch, as a reference.

All variants start from the same weights. After warm-up steps, the variants take turns
(round-robin, the starting variant rotating each round) so that a slow spell of a shared
machine hits them alike; each reports the median of its step times. CPU always (unless
`device="cuda"`), and CUDA too when there is one (with bf16 autocast, as training does).

On the CPU, the baseline step is also timed in fp32 and under bf16 autocast (`precision:
bf16`), round-robin in the same way: `ratio_fp32_vs_bf16` is bf16's speed-up (skipped, with a
note, on a CPU without native bf16).

(Over 500 lines: the variants, their round-robin timing and the report lines belong to one
measurement and are read together.)
"""

from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn
from transformers import TrainerCallback

from humal_nb.core.errors import ParameterError
from humal_nb.core.names import DEFAULT_MODEL
from humal_nb.core.quiet import quiet_transformers
from humal_nb.experiments.train import autocast, cpu_has_bf16, make_optimizer, resolve_device
from humal_nb.method.models import HumalForSequenceClassification

BATCH_SIZE = 32
SEQ_LEN = 128
LEARNING_RATE = 5e-5
VARIANTS = ("baseline", "al_naive", "al_efficient")
NOISY = 1.5  # a step this many times slower than its variant's fastest step counts as disturbed
LABELS = {
    "baseline": "baseline (plain fine-tuning)",
    "al_naive": "HuMAL-AL naive (output_attentions, eager)",
    "al_efficient": "HuMAL-AL efficient (q/k hooks, sdpa)",
    "trainer": "HF Trainer (plain fine-tuning, sdpa)",
}


class Runner(Protocol):
    """Something that can take `n` timed training steps and return their durations (s)."""

    def run(self, n: int) -> list[float]: ...


# ---------------------------------------------------------------------- set-up
def machine_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def pad_to(
    batch: dict[str, torch.Tensor], length: int, pad_id: int, side: str, pad_type_id: int = 0
) -> dict[str, torch.Tensor]:
    """Pad (never truncate) every [batch, tokens] tensor to `length` tokens on `side`."""
    out = {}
    for key, value in batch.items():
        missing = length - value.shape[1]
        if missing < 0:
            raise ValueError(f"{key} has {value.shape[1]} tokens, more than {length}.")
        fill = {"input_ids": pad_id, "token_type_ids": pad_type_id}.get(key, 0)
        pad = torch.full((value.shape[0], missing), fill, dtype=value.dtype)
        out[key] = torch.cat([pad, value] if side == "left" else [value, pad], dim=1)
    return out


def review_batch(
    tokenizer,
    family,
    words: list[list[str]],
    human: list[list[float]],
    labels: list[int],
    seq_len: int = SEQ_LEN,
) -> dict[str, torch.Tensor]:
    """A training batch of exactly `seq_len` tokens: encode_texts + collate, then padded."""
    from humal_nb.method.tokens import collate, encode_texts, padding_of

    encoded = encode_texts(tokenizer, family, words, human, max_length=seq_len)
    pad_id, side, pad_type_id = padding_of(tokenizer)
    batch = collate(encoded, pad_id, side, pad_type_id)
    batch = pad_to(batch, seq_len, pad_id, side, pad_type_id)
    batch["labels"] = torch.tensor(labels, dtype=torch.long)
    return batch


def yelp_batch(tokenizer, family, batch_size: int = BATCH_SIZE, seq_len: int = SEQ_LEN, seed: int = 0):
    """`batch_size` real Yelp-HAT reviews (a seeded sample), as a `seq_len`-token batch."""
    from humal_nb.data import load_yelp_hat

    reviews = load_yelp_hat().sample(n=batch_size, random_state=seed)
    return review_batch(
        tokenizer,
        family,
        [list(w) for w in reviews["words"]],
        [list(h) for h in reviews["human_attention"]],
        [int(v) for v in reviews["label"]],
        seq_len,
    )


def make_variants(model: HumalForSequenceClassification) -> dict[str, HumalForSequenceClassification]:
    """Baseline, AL naive and AL efficient copies of one model (same weights, deep copies)."""
    baseline = copy.deepcopy(model)
    baseline.config.strategy = "baseline"
    efficient = copy.deepcopy(model)
    efficient.config.strategy = "al"
    efficient.config.attention_path = "efficient"
    naive = copy.deepcopy(efficient)
    naive.config.attention_path = "naive"
    if naive.backbone.config._attn_implementation != "eager":
        naive.backbone.set_attn_implementation("eager")
    return {"baseline": baseline, "al_naive": naive, "al_efficient": efficient}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------- runners
class StepRunner:
    """humal_nb's training step (as in `train.train_model`) on a fixed batch."""

    def __init__(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        device: torch.device,
        forward_kwargs: dict[str, Any] | None = None,
        precision: str = "fp32",
    ) -> None:
        self.device = device
        self.precision = precision
        self.model = model.to(device).train()
        self.optimizer = make_optimizer(self.model, LEARNING_RATE)
        self.batch = {k: v.to(device) for k, v in batch.items()}
        self.forward_kwargs = forward_kwargs or {}

    def step(self) -> float:
        """One forward + backward + AdamW step; its wall time in seconds."""
        _sync(self.device)
        started = time.perf_counter()
        with autocast(self.device, self.precision):
            out = self.model(**self.batch, **self.forward_kwargs)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        self.optimizer.step()
        out.ce_loss.item()  # the training loop reads the losses every step
        _sync(self.device)
        return time.perf_counter() - started

    def run(self, n: int) -> list[float]:
        return [self.step() for _ in range(n)]


class StepTimer(TrainerCallback):
    """Times each `Trainer` optimizer step, from on_step_begin to on_step_end."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.times: list[float] = []
        self._started = 0.0

    def on_step_begin(self, args, state, control, **kwargs) -> None:
        _sync(self.device)
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs) -> None:
        _sync(self.device)
        self.times.append(time.perf_counter() - self._started)


class TrainerRunner:
    """The Hugging Face `Trainer` fine-tuning a plain classifier on the same batch.

    Each `run(n)` calls `trainer.train()` for `n + discard` steps and returns the times
    of the last `n`. The set-up of a `train()` call happens before its first step's
    on_step_begin, and the optimizer (with its state) persists across calls, so after the
    warm-up no step needs discarding (`discard=0`).
    """

    def __init__(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        device: torch.device,
        discard: int = 0,
    ) -> None:
        from transformers import Trainer, TrainingArguments
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        inputs = [key for key in ("input_ids", "attention_mask", "token_type_ids", "labels") if key in batch]
        rows = [{key: batch[key][i] for key in inputs} for i in range(batch["input_ids"].shape[0])]
        self._dir = tempfile.TemporaryDirectory(prefix="humal-bench-")
        args = TrainingArguments(
            output_dir=self._dir.name,
            per_device_train_batch_size=len(rows),
            learning_rate=LEARNING_RATE,
            max_steps=1,
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
            use_cpu=device.type == "cpu",
            bf16=device.type == "cuda",
            log_level="error",
        )
        self.timer = StepTimer(device)
        self.trainer = Trainer(model=model, args=args, train_dataset=_ListDataset(rows), callbacks=[self.timer])
        for callback in (PrinterCallback, ProgressCallback):
            self.trainer.remove_callback(callback)
        self.discard = discard

    def run(self, n: int) -> list[float]:
        self.timer.times = []
        self.trainer.args.max_steps = n + self.discard
        self.trainer.train()
        return self.timer.times[self.discard :]

    def close(self) -> None:
        self._dir.cleanup()


class _ListDataset(torch.utils.data.Dataset):
    def __init__(self, rows: list[dict[str, torch.Tensor]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.rows[index]


# ---------------------------------------------------------------------- timing
def bench_steps(
    runners: dict[str, Runner],
    repeats: int = 7,
    steps_per_round: int = 2,
    warmup: int = 2,
) -> dict[str, list[float]]:
    """Warm every runner up, then `repeats` round-robin rounds; step times (s) per runner."""
    if repeats < 1 or steps_per_round < 1 or warmup < 0:
        raise ValueError("repeats and steps_per_round must be >= 1, warmup >= 0.")
    names = list(runners)
    for name in names:
        if warmup:
            runners[name].run(warmup)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].extend(runners[name].run(steps_per_round))
    return times


def summarize(times: dict[str, list[float]]) -> dict[str, Any]:
    """Median ms per step of each variant and their ratios."""
    medians = {name: 1000.0 * statistics.median(values) for name, values in times.items() if values}
    slow = sum(v > NOISY * min(values) for values in times.values() for v in values)
    result: dict[str, Any] = {
        "median_ms": medians,
        "min_ms": {name: 1000.0 * min(values) for name, values in times.items() if values},
        "noisy_steps": slow,
        "steps_ms": {name: [1000.0 * v for v in values] for name, values in times.items()},
        "ratio_al_vs_baseline": medians["al_efficient"] / medians["baseline"],
        "ratio_naive_vs_baseline": medians["al_naive"] / medians["baseline"],
        "ratio_baseline_vs_trainer": (
            medians["baseline"] / medians["trainer"] if "trainer" in medians else float("nan")
        ),
    }
    return result


def bench_device(
    model: HumalForSequenceClassification,
    batch: dict[str, torch.Tensor],
    device: torch.device,
    reference_factory: Callable[[], nn.Module] | None = None,
    repeats: int = 7,
    steps_per_round: int = 2,
    warmup: int = 2,
) -> dict[str, Any]:
    """Time the three variants (copies of `model`) and the optional Trainer reference on one device.

    Args:
        model: a HuMAL classifier; its weights start every variant (it is not trained).
        batch: `input_ids`, `attention_mask`, `human_tokens`, `labels` on the CPU.
        device: where to train.
        reference_factory: builds the plain Hugging Face classifier for the Trainer, or None.
    Returns:
        `summarize` of the step times, plus `device`.
    """
    variants = make_variants(model)
    runners: dict[str, Runner] = {
        name: StepRunner(m, batch, device, {"monitor_attention": False} if name == "baseline" else {})
        for name, m in variants.items()
    }
    trainer_runner = None
    if reference_factory is not None:
        trainer_runner = TrainerRunner(reference_factory(), batch, device)
        runners["trainer"] = trainer_runner
    try:
        times = bench_steps(runners, repeats=repeats, steps_per_round=steps_per_round, warmup=warmup)
    finally:
        if trainer_runner is not None:
            trainer_runner.close()
    result = summarize(times)
    result["device"] = device.type
    return result


# ---------------------------------------------------------------------- precision
PRECISIONS_TIMED = ("fp32", "bf16")


def bench_precision(
    model: HumalForSequenceClassification,
    batch: dict[str, torch.Tensor],
    repeats: int = 7,
    steps_per_round: int = 2,
    warmup: int = 2,
) -> dict[str, Any]:
    """Time the baseline step on the CPU in fp32 and under bf16 autocast (copies of `model`,
    same weights), round-robin as `bench_device`.

    Returns:
        `median_ms`, `min_ms`, `steps_ms` per precision and `ratio_fp32_vs_bf16` (fp32's median
        step time over bf16's: above 1, bf16 is faster).
    """
    cpu = torch.device("cpu")
    runners: dict[str, Runner] = {}
    for precision in PRECISIONS_TIMED:
        plain = copy.deepcopy(model)
        plain.config.strategy = "baseline"
        runners[precision] = StepRunner(plain, batch, cpu, {"monitor_attention": False}, precision=precision)
    times = bench_steps(runners, repeats=repeats, steps_per_round=steps_per_round, warmup=warmup)
    medians = {name: 1000.0 * statistics.median(values) for name, values in times.items()}
    return {
        "median_ms": medians,
        "min_ms": {name: 1000.0 * min(values) for name, values in times.items()},
        "steps_ms": {name: [1000.0 * v for v in values] for name, values in times.items()},
        "ratio_fp32_vs_bf16": medians["fp32"] / medians["bf16"],
    }


def precision_lines(result: dict[str, Any] | None) -> list[str]:
    """The CPU's fp32 vs bf16 lines: a readable one, then `ratio_fp32_vs_bf16=<float>`; a note
    alone when `result` is None (no native bf16 on this CPU)."""
    if result is None:
        return ["[cpu] bf16: not timed, this CPU has no native bf16 (AVX512-BF16 or AMX); precision: bf16 is refused here"]
    medians, fastest = result["median_ms"], result["min_ms"]
    return [
        f"[cpu] baseline step, fp32 vs bf16 autocast (precision: bf16): median {medians['fp32']:.1f} vs "
        f"{medians['bf16']:.1f} ms, fastest {fastest['fp32']:.1f} vs {fastest['bf16']:.1f} ms, "
        f"{len(result['steps_ms']['bf16'])} steps each",
        f"ratio_fp32_vs_bf16={result['ratio_fp32_vs_bf16']:.4f}",
    ]


# ---------------------------------------------------------------------- report
def report_lines(results: dict[str, dict[str, Any]], primary: str) -> list[str]:
    """A readable table per device, then the three ratios of `primary` (last: AL vs baseline)."""
    lines = []
    for device, res in results.items():
        medians = res["median_ms"]
        base = medians["baseline"]
        lines.append(f"[{device}] median ms per training step (forward + backward + AdamW step)")
        lines.append(f"  {'variant':<44} {'median':>9} {'vs baseline':>12} {'fastest':>9} {'steps':>6}")
        for name in (*VARIANTS, "trainer"):
            if name in medians:
                lines.append(
                    f"  {LABELS[name]:<44} {medians[name]:>9.1f} {medians[name] / base:>11.3f}x"
                    f" {res['min_ms'][name]:>9.1f} {len(res['steps_ms'][name]):>6}"
                )
        lines.append(
            f"  AL efficient / baseline = {res['ratio_al_vs_baseline']:.3f}   "
            f"AL naive / baseline = {res['ratio_naive_vs_baseline']:.3f}   "
            f"baseline / Trainer = {res['ratio_baseline_vs_trainer']:.3f}"
        )
        total = sum(len(v) for v in res["steps_ms"].values())
        if res["noisy_steps"]:
            lines.append(
                f"  note: {res['noisy_steps']} of {total} steps took over {NOISY}x their variant's fastest "
                "step (other load on the machine); medians absorb some of that, a quiet machine gives firmer ratios."
            )
        lines.append("")
    res = results[primary]
    lines.append(f"ratio_naive_vs_baseline={res['ratio_naive_vs_baseline']:.4f}")
    lines.append(f"ratio_baseline_vs_trainer={res['ratio_baseline_vs_trainer']:.4f}")
    lines.append(f"ratio_al_vs_baseline={res['ratio_al_vs_baseline']:.4f}")
    return lines


def _devices(device: str) -> list[torch.device]:
    if device == "auto":
        return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    return [resolve_device(device)]


def _print_header(model_name: str, model: Any, batch: dict[str, torch.Tensor], threads: int, warmup: int,
                  repeats: int, steps_per_round: int) -> None:
    real = batch["attention_mask"].sum(-1).float()
    print(
        f"humal-nb bench: {model_name} ({model.backbone.config.num_hidden_layers} layers), batch "
        f"{BATCH_SIZE} x {SEQ_LEN} tokens of real Yelp-HAT reviews (real tokens: mean "
        f"{real.mean():.0f}, max {real.max():.0f}); torch {torch.__version__}, {threads} CPU threads; "
        f"{warmup} warm-up steps, then {repeats} round-robin rounds x {steps_per_round} steps"
    )


def _check_counts(**counts: tuple[Any, int]) -> None:
    for name, (value, low) in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParameterError(f"bench: {name} must be a whole number >= {low}, got {value!r}.")


def _use_all_cores() -> int:
    """Let torch use every core of the machine; returns the count."""
    threads = machine_cores()
    # torch's default already is the core count; calling set_num_threads anyway (even with the same
    # number) made small ops stall for milliseconds under CPU contention on a shared 2-core machine.
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def run_bench(
    repeats: int = 7,
    device: str = "auto",
    trainer: bool = True,
    steps_per_round: int = 2,
    warmup: int = 2,
    model_name: str = DEFAULT_MODEL,
    seed: int = 0,
    precision: bool = True,
) -> dict[str, Any]:
    """The benchmark of `humal-nb bench`: prints a table, last line `ratio_al_vs_baseline=<float>`.

    Args:
        repeats: round-robin rounds; each variant takes `steps_per_round` timed steps per round.
        device: "auto" (CPU, and CUDA too when available), "cpu" or "cuda".
        trainer: also time the Hugging Face `Trainer` reference.
        precision: on the CPU, also time the baseline step in fp32 vs bf16 autocast
            (`bench_precision`; its `ratio_fp32_vs_bf16=` line comes just before the last line).
    Returns:
        `{"devices": {device: summary}, "primary": device, <primary's ratios>, set-up facts}`;
        the primary device is the CPU when it was measured.
    """
    from transformers import AutoModelForSequenceClassification

    from humal_nb.method.models import build_model, load_tokenizer, resolve_model

    _check_counts(repeats=(repeats, 1), steps_per_round=(steps_per_round, 1), warmup=(warmup, 0))
    threads = _use_all_cores()
    devices = _devices(device)
    results: dict[str, dict[str, Any]] = {}
    with quiet_transformers():
        torch.manual_seed(seed)
        model = build_model(model_name, strategy="al")
        tokenizer = load_tokenizer(model_name)
        batch = yelp_batch(tokenizer, model.family, BATCH_SIZE, SEQ_LEN, seed=seed)
        path, _ = resolve_model(model_name)

        def reference() -> nn.Module:
            torch.manual_seed(seed)
            return AutoModelForSequenceClassification.from_pretrained(
                path, local_files_only=True, num_labels=2, attn_implementation="sdpa"
            )

        _print_header(model_name, model, batch, threads, warmup, repeats, steps_per_round)
        for dev in devices:
            results[dev.type] = _bench_one_device(model, batch, dev, reference if trainer else None, precision,
                                                  repeats=repeats, steps_per_round=steps_per_round, warmup=warmup)
    primary = "cpu" if "cpu" in results else devices[0].type
    for line in _with_precision(report_lines(results, primary), results):
        print(line)
    settings = {"model": model_name, "threads": threads, "repeats": repeats, "steps_per_round": steps_per_round,
                "warmup": warmup}
    return _bench_result(settings, results, primary)


def _bench_one_device(model: nn.Module, batch: dict, dev: torch.device, reference: Any, precision: bool,
                      **counts: int) -> dict[str, Any]:
    """One device's timings (`bench_device`); CUDA notes its bf16 autocast, and the CPU adds
    the fp32 vs bf16 step when `precision` and the CPU runs bf16 natively."""
    result = bench_device(model, batch, dev, reference_factory=reference, **counts)
    if dev.type == "cuda":
        result["autocast"] = "bf16"
    if dev.type == "cpu" and precision:
        result["precision"] = (bench_precision(model, batch, counts["repeats"], counts["steps_per_round"],
                                               counts["warmup"]) if cpu_has_bf16() else None)
    return result


def _with_precision(lines: list[str], results: dict[str, dict[str, Any]]) -> list[str]:
    """The report's lines with the CPU's fp32 vs bf16 lines (when timed) before the last line."""
    if "precision" not in results.get("cpu", {}):
        return lines
    return lines[:-1] + precision_lines(results["cpu"]["precision"]) + lines[-1:]


def _bench_result(settings: dict[str, Any], results: dict[str, dict[str, Any]], primary: str) -> dict[str, Any]:
    """What `run_bench` returns: the settings, every device's summary, the primary's ratios."""
    out = {**settings, "batch_size": BATCH_SIZE, "seq_len": SEQ_LEN, "devices": results, "primary": primary}
    for key in ("ratio_al_vs_baseline", "ratio_naive_vs_baseline", "ratio_baseline_vs_trainer", "median_ms"):
        out[key] = results[primary][key]
    if results.get("cpu", {}).get("precision"):
        out["ratio_fp32_vs_bf16"] = results["cpu"]["precision"]["ratio_fp32_vs_bf16"]
    return out
