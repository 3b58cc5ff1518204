"""The paired fp32 vs bf16 table of `parameters/precision_check.yaml` (README "Precision: bf16 on CPU").

    python scripts/precision_table.py [outputs/precision_check] [--pairs]

Reads every finished cell's metrics.json, pairs each bf16 cell with the fp32 cell of the same
strategy, imbalance ratio and bootstrap, and prints a markdown table per (ratio, strategy): mean
test AUC and cosine to human attention in fp32 and bf16, the mean of the per-pair differences
(bf16 - fp32) with their range, and the mean training seconds per cell. `--pairs` also prints
every pair.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

from humal_nb.config.runs import is_complete, read_json
from humal_nb.core.names import METRICS_FILE, STRATEGY_LABELS


def load_pairs(folder: Path) -> dict[tuple[float, str], dict[int, dict[str, dict]]]:
    """{(ratio, strategy): {bootstrap: {precision: metrics}}} of the folder's finished cells."""
    cells: dict[tuple[float, str], dict[int, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for run in sorted(p for p in folder.iterdir() if p.is_dir() and is_complete(p)):
        m = read_json(run / METRICS_FILE)
        precision = m["parameters"].get("precision", "fp32")
        cells[(m["imbalance_ratio"], m["strategy"])][m["bootstrap"]][precision] = m
    return cells


def _auc(m: dict) -> float:
    return m["auc"]


def _cosine(m: dict) -> float:
    return m["attention"]["cosine_to_human"]


def _seconds(m: dict) -> float:
    return m["train_seconds"]


def _mean(pairs: list[dict[str, dict]], precision: str, value) -> float:
    return statistics.mean(value(p[precision]) for p in pairs)


def _diff(pairs: list[dict[str, dict]], value) -> str:
    diffs = [value(p["bf16"]) - value(p["fp32"]) for p in pairs]
    return f"{statistics.mean(diffs):+.4f} [{min(diffs):+.4f}, {max(diffs):+.4f}]"


def summary_rows(cells: dict[tuple[float, str], dict[int, dict[str, dict]]]) -> list[str]:
    """The markdown table: one row per (ratio, strategy), over its complete pairs."""
    rows = [
        "| minority | strategy | pairs | AUC fp32 | AUC bf16 | AUC bf16 - fp32 (mean [min, max]) "
        "| cosine fp32 | cosine bf16 | cosine bf16 - fp32 (mean [min, max]) | train s/cell fp32 | bf16 | fp32/bf16 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (ratio, strategy), by_boot in sorted(cells.items(), key=lambda kv: (-kv[0][0], kv[0][1] != "baseline")):
        pairs = [by_boot[b] for b in sorted(by_boot) if {"fp32", "bf16"} <= set(by_boot[b])]
        if not pairs:
            continue
        fp32_s, bf16_s = _mean(pairs, "fp32", _seconds), _mean(pairs, "bf16", _seconds)
        rows.append(
            f"| {ratio:.0%} | {STRATEGY_LABELS.get(strategy, strategy)} | {len(pairs)} "
            f"| {_mean(pairs, 'fp32', _auc):.4f} | {_mean(pairs, 'bf16', _auc):.4f} | {_diff(pairs, _auc)} "
            f"| {_mean(pairs, 'fp32', _cosine):.4f} | {_mean(pairs, 'bf16', _cosine):.4f} | {_diff(pairs, _cosine)} "
            f"| {fp32_s:.0f} | {bf16_s:.0f} | {fp32_s / bf16_s:.2f} |"
        )
    return rows


def pair_rows(cells: dict[tuple[float, str], dict[int, dict[str, dict]]]) -> list[str]:
    """Every pair: AUC, cosine and training seconds in both precisions."""
    rows = ["| minority | strategy | bootstrap | AUC fp32 | AUC bf16 | cosine fp32 | cosine bf16 | s fp32 | s bf16 |",
            "|---|---|---|---|---|---|---|---|---|"]
    for (ratio, strategy), by_boot in sorted(cells.items(), key=lambda kv: (-kv[0][0], kv[0][1] != "baseline")):
        for boot in sorted(by_boot):
            pair = by_boot[boot]
            if {"fp32", "bf16"} <= set(pair):
                f, b = pair["fp32"], pair["bf16"]
                rows.append(
                    f"| {ratio:.0%} | {STRATEGY_LABELS.get(strategy, strategy)} | {boot} | {f['auc']:.4f} "
                    f"| {b['auc']:.4f} | {f['attention']['cosine_to_human']:.4f} "
                    f"| {b['attention']['cosine_to_human']:.4f} | {f['train_seconds']:.0f} | {b['train_seconds']:.0f} |"
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="outputs/precision_check")
    parser.add_argument("--pairs", action="store_true", help="also print every pair")
    args = parser.parse_args()
    cells = load_pairs(Path(args.folder))
    print("\n".join(summary_rows(cells)))
    if args.pairs:
        print()
        print("\n".join(pair_rows(cells)))


if __name__ == "__main__":
    main()
