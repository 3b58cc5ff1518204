"""The replication record: a grid's committed files read beside the paper's numbers.

`markdown(grid_dir)` writes what README's "Replication" section shows, from the grid's
`summary.csv` and its cells' `metrics.json` only (the files committed under
`outputs/replication/`): Table III (mean AUC (std) per size, ratio and strategy, the
one-sided paired t-test against the baseline, how many bootstraps the strategy won) next to
the paper's Table III (a), the cosine to human attention (the Table V form) and the
high-attention rates. The position curves (Fig. 6) need the cells' `attention.json`, which is
not committed: `position_markdown` pools the ones at hand, and the README keeps that table in a
block of its own, rewritten only where they are.

`python -m humal_nb.replication GRID_DIR --readme README.md` rewrites the README's block
between its two replication markers, so the README's numbers are the files' numbers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humal_nb import analysis, report, runs, stats
from humal_nb.names import MANIFEST_FILE, STATUS_FINISHED, STRATEGY_LABELS

#: paper Table III (a), sentiment: (size, ratio) -> strategy -> (mean AUC, std, starred)
PAPER_TABLE3: dict[tuple[int, float], dict[str, tuple[float, float, bool]]] = {
    (250, 0.01): {"baseline": (0.64, 0.11, False), "al": (0.84, 0.08, True), "an": (0.69, 0.13, False),
                  "ap": (0.70, 0.10, False)},
    (250, 0.05): {"baseline": (0.87, 0.08, False), "al": (0.96, 0.02, True), "an": (0.90, 0.04, False),
                  "ap": (0.91, 0.04, True)},
    (250, 0.20): {"baseline": (0.96, 0.03, False), "al": (0.98, 0.01, True), "an": (0.97, 0.01, False),
                  "ap": (0.97, 0.02, False)},
    (250, 0.50): {"baseline": (0.98, 0.01, False), "al": (0.98, 0.01, False), "an": (0.98, 0.01, False),
                  "ap": (0.98, 0.01, False)},
    (500, 0.01): {"baseline": (0.75, 0.10, False), "al": (0.94, 0.03, True), "an": (0.79, 0.06, False),
                  "ap": (0.79, 0.06, False)},
}
BEGIN = "<!-- replication:begin (python -m humal_nb.replication GRID_DIR --readme README.md) -->"
END = "<!-- replication:end -->"
POSITIONS_BEGIN = "<!-- replication-positions:begin (from the cells' attention.json at hand) -->"
POSITIONS_END = "<!-- replication-positions:end -->"


# ---------------------------------------------------------------------- Table III
def _wins(summary: pd.DataFrame, size: int, ratio: float, strategy: str) -> tuple[int, int]:
    """(bootstraps where the strategy's AUC beats the baseline's, matched bootstraps)."""
    done = summary[(summary["status"] == STATUS_FINISHED) & (summary["data_size"] == size)
                   & np.isclose(summary["imbalance_ratio"], ratio)]
    base = done[done["strategy"] == "baseline"].set_index("bootstrap")["auc"]
    other = done[done["strategy"] == strategy].set_index("bootstrap")["auc"]
    common = base.index.intersection(other.index)
    return int((other[common] > base[common]).sum()), int(len(common))


def table3(grid_dir: str | Path) -> pd.DataFrame:
    """One row per size, ratio and strategy with finished cells: n, mean and std AUC, the
    paired test's p-value against the baseline, wins, and the paper's cell."""
    summary = report.read_summary(grid_dir)
    long = stats.auc_table(summary).long
    long = long[long["n"] > 0]
    rows = []
    for _, r in long.iterrows():
        size, ratio, strategy = int(r["data_size"]), float(r["imbalance_ratio"]), str(r["strategy"])
        wins, pairs = _wins(summary, size, ratio, strategy) if strategy != "baseline" else (0, 0)
        paper = PAPER_TABLE3.get((size, round(ratio, 4)), {}).get(strategy)
        rows.append({"data_size": size, "imbalance_ratio": ratio, "strategy": strategy, "n": int(r["n"]),
                     "mean_auc": r["mean_auc"], "std_auc": r["std_auc"], "p_value": r["p_value"],
                     "wins": wins, "pairs": pairs,
                     "paper": None if paper is None else f"{paper[0]:.2f}{'*' if paper[2] else ''} ({paper[1]:.2f})"})
    return pd.DataFrame(rows)


def _p_text(p: float) -> str:
    return "" if not np.isfinite(p) else (f"{p:.2g}*" if p < stats.ALPHA else f"{p:.2g}")


def table3_markdown(frame: pd.DataFrame) -> str:
    lines = ["| size | ratio | strategy | n | AUC, here: mean (std) | p (paired t, one-sided) | beats baseline | paper |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for _, r in frame.iterrows():
        std = "" if not np.isfinite(r["std_auc"]) else f" ({r['std_auc']:.2f})"
        wins = "" if r["strategy"] == "baseline" else f"{r['wins']} of {r['pairs']}"
        lines.append(f"| {r['data_size']} | {stats.format_ratio(r['imbalance_ratio'])} | "
                     f"{STRATEGY_LABELS.get(r['strategy'], r['strategy'])} | {r['n']} | {r['mean_auc']:.3f}{std} | "
                     f"{_p_text(r['p_value'])} | {wins} | {r['paper'] or ''} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------- attention (Table V, rates)
def cell_attention(grid_dir: str | Path) -> pd.DataFrame:
    """Per finished cell: its axes and the attention figures of its `metrics.json`."""
    grid_dir = Path(grid_dir)
    rows = []
    for _, cell in report.read_summary(grid_dir).iterrows():
        if cell["status"] != STATUS_FINISHED:
            continue
        attention = runs.read_metrics(grid_dir / cell["cell"]).get("attention") or {}
        rows.append({"strategy": cell["strategy"], "data_size": int(cell["data_size"]),
                     "imbalance_ratio": float(cell["imbalance_ratio"]), "bootstrap": int(cell["bootstrap"]),
                     **{k: attention.get(k, np.nan) for k in (
                         "cosine_to_human", "high_attention_rate", "human_high_attention_rate", "human_highlight_rate")}})
    return pd.DataFrame(rows)


def attention_markdown(cells: pd.DataFrame) -> str:
    """Cosine to human and high-attention rate, mean (std) over cells, per size, ratio, strategy."""
    lines = ["| size | ratio | strategy | n | cosine to human: mean (std) | high-attention rate (mean + 1 std) |",
             "| --- | --- | --- | --- | --- | --- |"]
    order = {s: i for i, s in enumerate(STRATEGY_LABELS)}
    cells = cells.assign(order=cells["strategy"].map(order))
    for (size, ratio, _, strategy), g in cells.groupby(["data_size", "imbalance_ratio", "order", "strategy"], sort=True):
        lines.append(f"| {size} | {stats.format_ratio(ratio)} | {STRATEGY_LABELS.get(strategy, strategy)} | {len(g)} | "
                     f"{stats.format_cell(g['cosine_to_human'].mean(), g['cosine_to_human'].std(ddof=1))} | "
                     f"{100 * g['high_attention_rate'].mean():.1f} % |")
    human = cells.drop_duplicates(["data_size", "imbalance_ratio", "bootstrap"])
    lines.append(f"\nHumans, on the same test set: {100 * human['human_highlight_rate'].mean():.1f} % of words "
                 f"highlighted by an annotator, {100 * human['human_high_attention_rate'].mean():.1f} % above the "
                 "mean + 1 std of the summed maps (paper: 13-21 % highlighted; BERT about 5 %).")
    return "\n".join(lines)


# ---------------------------------------------------------------------- Fig. 6
def position_curves(grid_dir: str | Path, n_bins: int = 10) -> pd.DataFrame | None:
    """Mean attention by relative position (Fig. 6) of human and each strategy, pooled over
    the finished cells whose `attention.json` is present (None when none is), with each
    source's `n_cells`. Every cell shares the test set, so human is read once."""
    grid_dir = Path(grid_dir)
    named: dict[str, list] = {}
    counts: dict[str, int] = {}
    human = None
    for _, cell in report.read_summary(grid_dir).iterrows():
        path = grid_dir / cell["cell"] / runs.ATTENTION_FILE
        if cell["status"] != STATUS_FINISHED or not path.is_file():
            continue
        reviews = runs.read_json(path)["reviews"]
        human = human or [r["human"] for r in reviews]
        named.setdefault(cell["strategy"], []).extend(r["machine"] for r in reviews)
        counts[cell["strategy"]] = counts.get(cell["strategy"], 0) + 1
    if human is None:
        return None
    curves = analysis.position_curves({"human": human, **named}, n_bins=n_bins)
    curves["n_cells"] = curves["source"].map(counts).fillna(0).astype(int)
    return curves


def position_markdown(grid_dir: str | Path) -> str | None:
    """The position curves as a table (one column per bin), or None without attention.json."""
    curves = position_curves(grid_dir)
    if curves is None:
        return None
    wide = curves.pivot(index="source", columns="bin", values="attention")
    cells = curves.groupby("source")["n_cells"].first()
    bins = list(wide.columns)
    lines = ["| source | cells | " + " | ".join(f"{(b + 0.5) / len(bins):.2f}" for b in bins) + " |",
             "| --- | --- | " + " | ".join("---" for _ in bins) + " |"]
    order = ["human", *[s for s in STRATEGY_LABELS if s in wide.index]]
    for source in order:
        label = "human" if source == "human" else STRATEGY_LABELS[source]
        lines.append(f"| {label} | {cells[source] if source != 'human' else ''} | "
                     + " | ".join(f"{v:.2f}" for v in wide.loc[source]) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the README block
def _grid_facts(grid_dir: Path) -> dict[str, Any]:
    summary = report.read_summary(grid_dir)
    manifest = runs.read_json(grid_dir / MANIFEST_FILE)
    code = manifest.get("code") or {}
    return {"finished": int((summary["status"] == STATUS_FINISHED).sum()), "cells": len(summary),
            "commit": str(code.get("commit") or "")[:7], "name": manifest.get("name", grid_dir.name)}


def markdown(grid_dir: str | Path) -> str:
    """The README's replication block, from the grid's files."""
    grid_dir = Path(grid_dir)
    facts = _grid_facts(grid_dir)
    return "\n\n".join([
        f"Grid `{facts['name']}` (code at commit {facts['commit']}): {facts['finished']} of {facts['cells']} "
        "cells finished.",
        "**Table III, here and in the paper** (AUC on 200 balanced test reviews; `*` p < 0.05):",
        table3_markdown(table3(grid_dir)),
        "**Cosine to human attention and high-attention rate** (test set, per cell; the paper's Table V "
        "form: BERT 0.19-0.27, HuMAL-AL 0.45-0.48 on its personality task):",
        attention_markdown(cell_attention(grid_dir)),
    ])


def _replace_block(text: str, begin: str, end: str, body: str, path: Path) -> str:
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no replication block ({begin} ... {end}).")
    return re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: f"{begin}\n{body}\n{end}", text, flags=re.S)


def update_readme(readme: str | Path, grid_dir: str | Path) -> None:
    """Replace the README's block between BEGIN and END with `markdown(grid_dir)`, and the
    position curves' block (POSITIONS_BEGIN ... END) when cells' `attention.json` are at hand
    (they are not committed: elsewhere that block keeps what it last showed)."""
    path = Path(readme)
    text = _replace_block(path.read_text(), BEGIN, END, markdown(grid_dir), path)
    positions = position_markdown(grid_dir)
    if positions is not None:
        text = _replace_block(text, POSITIONS_BEGIN, POSITIONS_END, positions, path)
    path.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m humal_nb.replication", description=__doc__.splitlines()[0])
    parser.add_argument("grid_dir")
    parser.add_argument("--readme", help="rewrite this README's replication block")
    args = parser.parse_args(argv)
    if args.readme:
        update_readme(args.readme, args.grid_dir)
    else:
        print(markdown(args.grid_dir))


if __name__ == "__main__":
    main()
