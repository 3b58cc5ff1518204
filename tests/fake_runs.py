"""A finished run pair written by hand, in the format `train.save_run` writes (no training):
`metrics.json` as `train.run_metrics` returns it and `attention.json` as `train.evaluate`'s records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from humal_nb.config import runs

WORDS = [
    "the soup was cold and the waiter rude".split(),
    "great pizza , friendly staff and quick service".split(),
    "never again : the worst burger in town".split(),
    "lovely patio , fresh bread , fair prices".split(),
]
REVIEW_IDS = ["r1", "r2", "r3", "r4"]
LABELS = [0, 1, 0, 1]


def history(epochs: int, attention: bool) -> list[dict[str, Any]]:
    return [{"epoch": e + 1, "ce_loss": 0.7 / (e + 1), "attention_loss": (0.6 / (e + 1) if attention else None),
             "tokens": 400, "padded_tokens": 440, "seconds": 1.5} for e in range(epochs)]


def metrics(strategy: str, out_dir: Path, auc: float = 0.8, **parameters: Any) -> dict[str, Any]:
    """A `metrics.json` as `train.run_metrics` writes it; `out_dir` and `data_dir` are machine paths
    (they must not leak into what humal_nb writes from it)."""
    params = {"strategy": strategy, "model": "all-MiniLM-L6-v2", "alpha": 2.0, "attention_loss": "cosine",
              "data_dir": str(out_dir.parent / "data"), "data_file": "", "data_size": 24, "imbalance_ratio": 0.25,
              "minority_label": 1, "n_test": 4, "bootstrap": 0, "seed": 0, "test_seed": 0, "epochs": 3,
              "max_length": 64, "out_dir": str(out_dir), "rationale_source": "human", "rationale_fraction": 1.0,
              **parameters}
    return {
        "strategy": strategy, "model": params["model"], "data_size": 24, "imbalance_ratio": 0.25, "minority_label": 1,
        "length_group": "", "bootstrap": 0, "seed": 0, "test_seed": 0, "auc": auc, "accuracy": 0.75, "f1": 0.6667,
        "n_train": 24, "n_train_minority": 6, "n_test": 4, "epochs": 3, "alpha": 2.0, "attention_loss": "cosine",
        "rationale_source": "human", "rationale_fraction": 1.0, "n_train_rationales": 24, "train_seconds": 4.5,
        "train_tokens": 1200, "train_padded_tokens": 1320, "group_by_length": False, "device": "cpu",
        "history": history(3, attention=True),
        "attention": {"layer": "last", "cosine_to_human": 0.55, "cosine_to_human_std": 0.1,
                      "high_attention_rate": 0.12, "human_high_attention_rate": 0.15, "human_highlight_rate": 0.2},
        "parameters": params,
        "versions": {"humal_nb": "0.1.0", "torch": "2.0", "python": "3.11"},
    }


def records(seed: int) -> list[dict[str, Any]]:
    """Per test review: words, label, prob, human and machine word attention (sum 1), maps."""
    rng = np.random.default_rng(seed)
    out = []
    for rid, words, label in zip(REVIEW_IDS, WORDS, LABELS):
        maps = [[int(i % 3 == 0) for i in range(len(words))], [int(i % 4 == 0) for i in range(len(words))]]
        human = np.sum(maps, axis=0).astype(float)
        machine = rng.random(len(words))
        out.append({"review_id": rid, "label": label, "prob": float(rng.random()), "length_group": "yelp50",
                    "words": words, "human": list(human / human.sum()), "machine": list(machine / machine.sum()),
                    "maps": maps})
    return out


def write_run(folder: Path, strategy: str, seed: int, attention: bool = True, auc: float = 0.8) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if attention:
        runs.write_json(folder / runs.ATTENTION_FILE, {"strategy": strategy, "reviews": records(seed)})
    data = metrics(strategy, folder, auc=auc)
    if strategy in ("baseline", "an"):
        data["history"] = history(3, attention=False)
    runs.write_json(folder / runs.METRICS_FILE, data)
    return folder


def write_pair(root: Path, attention: bool = True) -> Path:
    """A HuMAL-AL run at `root/run` with its baseline at `root/run/baseline`; returns `root/run`."""
    run = root / "run"
    write_run(run / runs.BASELINE_DIR, "baseline", seed=1, attention=attention, auc=0.7)
    write_run(run, "al", seed=2, attention=attention, auc=0.9)
    return run
