"""A tiny trained pair for when the explorer or the compare report is opened without runs:
a HuMAL run and its baseline on the same training subset and test set (2-core CPU: about a
minute). The one reader of finished runs that trains: `compare.resolve_runs` reaches it
only when no runs are given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import ParameterError
from humal_nb.experiments.run import Run

#: the pair's parameters over RunConfig's defaults
SMALL_RUN: dict[str, Any] = {
    "data_size": 32,
    "imbalance_ratio": 0.25,
    "n_test": 20,
    "epochs": 1,
    "max_length": 64,
    "batch_size": 16,
}


def train_small_runs(out_dir: str | Path, strategy: str = "al", reuse: bool = True, **overrides: Any) -> tuple[Path, Path]:
    """Train a tiny HuMAL run and its baseline on the same training subset and test set
    (`train.train_with_baseline`, as the training notebook does with `compare_baseline`).

    Args:
        out_dir: the HuMAL run goes to `out_dir/<strategy>`, its baseline to
            `out_dir/<strategy>/baseline`.
        strategy: the HuMAL strategy (`al`, `ap`, `an`).
        reuse: keep a finished pair whose parameters are the same.
        overrides: RunConfig parameters over SMALL_RUN (data_size 32, ratio 0.25,
            n_test 20, 1 epoch, max_length 64).
    Returns:
        (baseline folder, HuMAL folder).
    """
    from humal_nb.experiments import train

    if strategy == "baseline":
        raise ParameterError("strategy must be a HuMAL strategy (al, ap, an): the baseline is trained anyway.")
    humal = Path(out_dir) / strategy
    config = RunConfig.from_dict({**SMALL_RUN, **overrides, "strategy": strategy, "compare_baseline": True,
                                  "out_dir": str(humal)})
    baseline = humal / runs.BASELINE_DIR
    if reuse and all(runs.is_complete(f) and (f / runs.ATTENTION_FILE).is_file() for f in (baseline, humal)):
        if _same_run(Run.open(humal).config, config, humal):
            return baseline, humal
    result, base_result = train.train_with_baseline(config)
    train.save_runs(config, result, base_result)
    return baseline, humal


def _same_run(saved: RunConfig, wanted: RunConfig, folder: Path) -> bool:
    """Whether a saved run is the one `wanted` asks for: the same parameters, paths compared as
    the run records them (`paths.portable_parameters`), where and how much it writes left out."""
    from humal_nb.config.run_config import NON_RESULT_KEYS
    from humal_nb.core.paths import portable_parameters

    def result_keys(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in portable_parameters(values, folder).items() if k not in NON_RESULT_KEYS}

    return result_keys(saved.to_dict()) == result_keys(wanted.to_dict())


__all__ = ["SMALL_RUN", "train_small_runs"]
