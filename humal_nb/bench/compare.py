"""`humal-nb bench --compare`: what the explorer's report (`humal-nb compare`) costs, cold and warm.

A fixed pair: HuMAL-AL and its plain baseline at the quickstart's size, for one epoch
(`COMPARE_PAIR`: 250 Yelp-HAT reviews at 5 % positive, the balanced 200-review test set,
128 tokens, the default model), trained into the bench's folder the first time and reused
after. The report is made twice, as `humal-nb compare` makes it (`compare.compare_report`,
the notebook executed in a fresh kernel and exported), into a scratch folder:

- **cold**: the pair's caches removed first (`faithfulness_cache.json`,
  `readings_cache.json`), so both models run every reduced review and the rollout;
- **warm**: at once again, reading those caches.

Per stage: the seconds of the notebook's cells (papermill's timings) grouped by what they
compute (`STAGES`), and the rest (the kernel's start, papermill, the export to HTML). The
last line printed is `compare_cold_seconds=X`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from humal_nb.core.names import CACHE_FILES, COMPARE_NOTEBOOK_FILE

#: the pair's parameters over RunConfig's defaults (the quickstart's data, one epoch)
#: (the small pair's n_test 20 and batch_size 16 replaced by the quickstart's 200 and 32)
COMPARE_PAIR: dict[str, Any] = {"data_size": 250, "imbalance_ratio": 0.05, "n_test": 200, "batch_size": 32,
                                "epochs": 1, "max_length": 128}
#: a notebook cell's stage: the first name whose call its code makes, in this order
STAGES = (
    ("compare.faithfulness(", "faithfulness"),
    ("rollout_html(", "rollout"),
    ("report_bertviz_html(", "bertviz view"),
    ("static_heatmaps_html(", "example heatmaps"),
    ("example_browser(", "explorer widget"),
    ("load_comparison(", "imports, load runs"),
)
OTHER_CELLS = "other cells"
REST = "kernel start, export, rest"


def stage_seconds(executed: str | Path) -> dict[str, float]:
    """Seconds per stage (`STAGES`, then `other cells`) of an executed notebook, from the
    durations papermill records in each code cell's metadata."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    seconds = {name: 0.0 for _, name in STAGES} | {OTHER_CELLS: 0.0}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        duration = float(cell.metadata.get("papermill", {}).get("duration") or 0.0)
        stage = next((name for call, name in STAGES if call in cell.source), OTHER_CELLS)
        seconds[stage] += duration
    return seconds


def clear_caches(*run_dirs: Path) -> None:
    """Remove the compare caches of these run folders (the next report is cold)."""
    for folder in run_dirs:
        for name in CACHE_FILES:
            (folder / name).unlink(missing_ok=True)


def timed_report(baseline: Path, humal: Path, out: Path, precision: str) -> dict[str, Any]:
    """One `humal-nb compare` report of the pair into `out`: its seconds and seconds per stage."""
    from humal_nb.analyses.compare import compare_report

    parameters = {"humal_run": str(humal), "baseline_run": str(baseline), "precision": precision}
    started = time.perf_counter()
    compare_report(out, parameters, progress=False)
    total = time.perf_counter() - started
    stages = stage_seconds(out / COMPARE_NOTEBOOK_FILE)
    stages[REST] = total - sum(stages.values())
    return {"seconds": total, "stages": stages}


def run_compare_bench(out_dir: str | Path | None = None, precision: str = "auto",
                      pair: dict[str, Any] | None = None) -> dict[str, Any]:
    """Time a cold and a warm `humal-nb compare` of a fixed pair; prints a table of stages, last
    line `compare_cold_seconds=<float>`.

    Args:
        out_dir: the pair's folder (default `outputs/bench_compare`): trained there when missing.
        precision: the report's `precision` (`auto`, `fp32`, `bf16`; `inference`).
        pair: RunConfig parameters over COMPARE_PAIR (e.g. a smaller pair in tests).
    Returns:
        {"cold": {"seconds", "stages"}, "warm": {...}, "pair": parameters, "precision": precision,
        "compare_cold_seconds", "compare_warm_seconds"}.
    """
    from humal_nb.analyses.compare import train_small_runs
    from humal_nb.core.paths import outputs_dir
    from humal_nb.method.inference import check_precision, resolve_device

    check_precision(precision, resolve_device("auto"))
    settings = {**COMPARE_PAIR, **(pair or {})}
    baseline, humal = train_small_runs(Path(out_dir) if out_dir else outputs_dir() / "bench_compare", "al",
                                       reuse=True, **settings)
    clear_caches(baseline, humal)
    with tempfile.TemporaryDirectory(prefix="humal_bench_compare_") as tmp:
        results = {phase: timed_report(baseline, humal, Path(tmp) / phase, precision) for phase in ("cold", "warm")}
    for line in report_lines(results, settings, precision):
        print(line)
    return {**results, "pair": settings, "precision": precision,
            "compare_cold_seconds": results["cold"]["seconds"], "compare_warm_seconds": results["warm"]["seconds"]}


def report_lines(results: dict[str, dict[str, Any]], settings: dict[str, Any], precision: str) -> list[str]:
    """The table: one row per stage, cold and warm seconds; last line `compare_cold_seconds=X`."""
    described = ", ".join(f"{k} {v}" for k, v in settings.items())
    lines = [f"humal-nb bench --compare: HuMAL-AL and its baseline ({described}), precision {precision}",
             f"{'stage':<28}{'cold s':>9}{'warm s':>9}"]
    for stage in results["cold"]["stages"]:
        lines.append(f"{stage:<28}{results['cold']['stages'][stage]:>9.1f}{results['warm']['stages'][stage]:>9.1f}")
    lines.append(f"{'total':<28}{results['cold']['seconds']:>9.1f}{results['warm']['seconds']:>9.1f}")
    lines.append(f"compare_warm_seconds={results['warm']['seconds']:.2f}")
    lines.append(f"compare_cold_seconds={results['cold']['seconds']:.2f}")
    return lines


__all__ = ["COMPARE_PAIR", "STAGES", "clear_caches", "report_lines", "run_compare_bench", "stage_seconds", "timed_report"]
