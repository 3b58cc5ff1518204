"""The replication record: a grid's committed files read beside the paper's numbers.

`markdown(grid_dir)` writes what README's "Replication" section shows, from the grid's
`summary.csv` and its cells' `metrics.json` only (the files committed under
`outputs/replication/`): Table III (mean AUC (std) per size, ratio and strategy, the
one-sided paired t-test against the baseline, how many bootstraps the strategy won) next to
the paper's Table III (a), the cosine to human attention (the Table V form) and the
high-attention rates. The position curves (Fig. 6) need the cells' `attention.json`, which is
not committed: `position_markdown` pools the ones at hand, and the README keeps that table in a
block of its own, rewritten only where they are.

`python -m humal_nb.analyses.replication GRID_DIR --readme README.md` rewrites the README's block
between its two replication markers, so the README's numbers are the files' numbers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humal_nb.config import arms, runs
from humal_nb.core.names import MANIFEST_FILE, STATUS_FINISHED, STRATEGY_LABELS
from humal_nb.experiments import report
from humal_nb.measures import analysis, stats

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
#: every way the record's settings differ from the paper's (sec. IV), stated where its numbers are
PAPER_DIFFERENCES = (
    "Settings: as the paper's where it names them (10 epochs, batch 32, learning rate 5e-5, alpha 2, "
    "200 balanced test reviews, the same bootstrap design), and otherwise: the model is the 6-layer "
    "`all-MiniLM-L6-v2`, not `bert-base-cased`; the optimizer is AdamW with weight decay 0.01, where "
    "the paper names Adam (`weight_decay: 0` runs plain Adam); reviews are kept where a strict "
    "majority of annotators agree with the label, where the paper says the labels were agreed upon "
    "by the annotators (closer to `agreement: all`); reviews are cut at 256 tokens, a limit the "
    "paper does not name.")
BEGIN = "<!-- replication:begin (humal-nb replication GRID_DIR --docs FILE) -->"
END = "<!-- replication:end -->"
POSITIONS_BEGIN = "<!-- replication-positions:begin (from the cells' attention.json at hand) -->"
POSITIONS_END = "<!-- replication-positions:end -->"


# ---------------------------------------------------------------------- Table III
def paired_aucs(
    summary: pd.DataFrame, size: int, ratio: float, strategy: str, reference: str = "baseline"
) -> tuple[np.ndarray, np.ndarray]:
    """(reference AUCs, strategy AUCs) over the bootstraps where both finished, matched by bootstrap."""
    done = summary[(summary["status"] == STATUS_FINISHED) & (summary["data_size"] == size)
                   & np.isclose(summary["imbalance_ratio"], ratio)]
    base = done[done["strategy"] == reference].groupby("bootstrap")["auc"].mean()
    other = done[done["strategy"] == strategy].groupby("bootstrap")["auc"].mean()
    common = base.index.intersection(other.index).sort_values()
    return base[common].to_numpy(float), other[common].to_numpy(float)


def table3(grid_dir: str | Path) -> pd.DataFrame:
    """One row per size, ratio and strategy with finished cells: n, mean and std AUC, the
    paired test's p-value against the baseline, wins, the paired gain (mean, 95 % interval),
    the equivalence test and the smallest gain the pairs could detect, and the paper's cell."""
    return table3_from_summary(report.read_summary(grid_dir))


def table3_from_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """`table3` of a summary frame (one grid's, or several records' together; arms folded)."""
    summary = arms.fold(summary)
    long = stats.auc_table(summary).long
    long = long[long["n"] > 0]
    rows = []
    for _, r in long.iterrows():
        size, ratio, strategy = int(r["data_size"]), float(r["imbalance_ratio"]), str(r["strategy"])
        base, other = paired_aucs(summary, size, ratio, strategy) if strategy != "baseline" else (np.zeros(0),) * 2
        gain, low, high = stats.paired_difference(base, other)
        paper = PAPER_TABLE3.get((size, round(ratio, 4)), {}).get(strategy)
        row = {"data_size": size, "imbalance_ratio": ratio, "strategy": strategy, "n": int(r["n"]),
               "mean_auc": r["mean_auc"], "std_auc": r["std_auc"], "p_value": r["p_value"],
               "wins": int((other > base).sum()), "pairs": len(base),
               "paired_baseline_auc": base.mean() if len(base) else np.nan,
               "paired_auc": other.mean() if len(base) else np.nan,
               "gain": gain, "gain_low": low, "gain_high": high, "gain_lower": stats.lower_bound(base, other),
               "equivalence_p": stats.equivalence_test(base, other),
               "detectable": stats.detectable_effect(base, other),
               "paper": "" if paper is None else f"{paper[0]:.2f}{'*' if paper[2] else ''} ({paper[1]:.2f})"}
        row["paper_starred"] = None if paper is None else paper[2]
        rows.append(row)
    # Holm over the table's family: every strategy's test against the baseline
    tested = [r for r in rows if r["strategy"] != "baseline"]
    for r, p in zip(tested, stats.holm([r["p_value"] for r in tested])):
        r["holm_p"] = float(p)
    for r in rows:
        r.setdefault("holm_p", np.nan)
        starred = r.pop("paper_starred")
        r["verdict"] = "" if starred is None or r["strategy"] == "baseline" else table3_verdict(starred, r)
    return pd.DataFrame(rows)


def no_gain_verdict(row: dict[str, Any] | pd.Series, holds: str, reference: str = "the baseline") -> str:
    """A "no gain" finding only where the equivalence test shows it (`holds`, with the margin
    and its p), else "inconclusive" with the smallest gain the pairs could have detected."""
    margin = stats.EQUIVALENCE_MARGIN
    p = row["equivalence_p"]
    if np.isfinite(p) and p < stats.ALPHA:
        return f"{holds} (within +-{margin:g} AUC of {reference}, equivalence p = {p:.2g})"
    reach = row["detectable"]
    seen = f"; {row['pairs']} pairs could detect a gain of {reach:.2f} at 80 % power" if np.isfinite(reach) else ""
    return f"inconclusive at n = {row['pairs']} (not shown within +-{margin:g} AUC{seen})"


def table3_verdict(paper_starred: bool, row: dict[str, Any] | pd.Series) -> str:
    """What the row says of the paper's cell: a significant gain (starred) or none (not). A
    "no gain" reading needs the equivalence test (`no_gain_verdict`)."""
    p_value, wins, pairs = row["p_value"], row["wins"], row["pairs"]
    if pairs < 2 or not np.isfinite(p_value):
        return "too few pairs yet"
    significant = row.get("holm_p", p_value) < stats.ALPHA  # Holm over the table where it was adjusted
    if paper_starred:
        if significant:
            return "holds: significant gain"
        if 2 * wins > pairs:
            return "direction only: ahead, not significant"
        return no_gain_verdict(row, "does not hold: no gain")
    if significant:
        return "does not hold: significant gain here"
    return no_gain_verdict(row, "holds: no gain")


def _gain_text(r: pd.Series) -> str:
    if r["strategy"] == "baseline" or not np.isfinite(r["gain"]):
        return ""
    bound = f" (>= {r['gain_lower']:+.3f})" if np.isfinite(r["gain_lower"]) else ""
    return f"{r['gain']:+.3f}{bound}".replace("-0.000", "+0.000")


def _p_text(p: float, holm_p: float = np.nan) -> str:
    if not np.isfinite(p):
        return ""
    adjusted = holm_p if np.isfinite(holm_p) else p
    return f"{p:.2g} ({adjusted:.2g}{'*' if adjusted < stats.ALPHA else ''})"


def table3_markdown(frame: pd.DataFrame) -> str:
    lines = ["| size | ratio | strategy | n | AUC, here: mean (std) | gain over baseline: mean (95 % lower bound) "
             "| p (paired t, one-sided), (Holm over the table) | beats baseline | paper | the paper's finding, here |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for _, r in frame.iterrows():
        std = "" if not np.isfinite(r["std_auc"]) else f" ({r['std_auc']:.2f})"
        wins = "" if r["strategy"] == "baseline" else f"{r['wins']} of {r['pairs']}"
        lines.append(f"| {r['data_size']} | {stats.format_ratio(r['imbalance_ratio'])} | "
                     f"{arms.label(r['strategy'])} | {r['n']} | {r['mean_auc']:.3f}{std} | {_gain_text(r)} | "
                     f"{_p_text(r['p_value'], r['holm_p'])} | {wins} | {r['paper']} | {r['verdict']} |")
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
    lines.append(f"\nHumans, on the same test set: {100 * human['human_high_attention_rate'].mean():.1f} % of words "
                 "above the review's mean + 1 std of the summed maps, the statistic of the rates above (the paper: "
                 f"about {100 * PAPER_HUMAN_RATE:.0f} % on Yelp, 13 % on its personality task; BERT about "
                 f"{100 * PAPER_BERT_RATE:.0f} %); {100 * human['human_highlight_rate'].mean():.1f} % of words "
                 "highlighted by an annotator.")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the paper's claims
@dataclass(frozen=True)
class Claim:
    """One of the paper's claims, its verdict by the rule stated in `CLAIM_RULES`, and the numbers."""

    claim: str
    verdict: str
    measured: str


#: the paper's high-attention rates (words above the review's mean + 1 std): people on Yelp, BERT
PAPER_HUMAN_RATE, PAPER_BERT_RATE = 0.21, 0.05
#: how far a measured rate may lie from the paper's and still "hold" (percentage points / 100)
HUMAN_RATE_BAND, BERT_RATE_BAND = 0.05, 0.025

CLAIM_RULES = (
    "Verdicts follow fixed rules. A Table III cell the paper stars holds where the one-sided paired "
    "t-test gives p < 0.05 here, holds in direction only where the strategy is ahead in most paired "
    "bootstraps without it, and otherwise does not hold. A \"no gain\" reading (an unstarred cell "
    "holding, or a starred one failing) needs a paired equivalence test (TOST, statsmodels' "
    f"`ttost_paired`) to place the gain within +-{stats.EQUIVALENCE_MARGIN:g} AUC at p < 0.05; where it "
    "does not, the cell reads \"inconclusive\" with the smallest gain its pairs could detect at 80 % "
    "power (statsmodels' `TTestPower`, the pairs' own spread). Closer to people: HuMAL-AL's cosine to "
    "human above the baseline's in every paired cell. Drift: the baseline's mean cosine lower at 50 % "
    "than at 1 % while HuMAL-AL's falls by less. Rates, the paper's statistic (words above the review's "
    f"mean + 1 std): people within {100 * PAPER_HUMAN_RATE:.0f} +- {100 * HUMAN_RATE_BAND:.0f} % "
    f"(the paper's Yelp figure; 13 % is its personality task's), the baseline within "
    f"{100 * PAPER_BERT_RATE:.0f} +- {100 * BERT_RATE_BAND:.1f} %.")


def _table3_row(t3: pd.DataFrame, size: int, ratio: float, strategy: str) -> pd.Series | None:
    if t3.empty:
        return None
    hit = t3[(t3["data_size"] == size) & np.isclose(t3["imbalance_ratio"], ratio) & (t3["strategy"] == strategy)]
    return None if hit.empty else hit.iloc[0]


def _comparison_claim(t3: pd.DataFrame, claim: str, cells: list[tuple[str, int, float]]) -> Claim:
    """The Table III verdicts of `cells` ((strategy, size, ratio)), each with its paired means."""
    found = []
    for strategy, size, ratio in cells:
        row = _table3_row(t3, size, ratio, strategy)
        if row is None or not row["pairs"]:
            continue
        p = (f", p = {row['p_value']:.2g}, Holm p = {row['holm_p']:.2g}" if np.isfinite(row["p_value"])
             and np.isfinite(row["holm_p"]) else "")
        found.append(f"{STRATEGY_LABELS[strategy]} at {size} x {stats.format_ratio(ratio)}: {row['verdict']} "
                     f"(baseline {row['paired_baseline_auc']:.3f} -> {row['paired_auc']:.3f} over the paired "
                     f"bootstraps, ahead in {row['wins']} of {row['pairs']}{p})")
    return Claim(claim, "; ".join(found) if found else "not measured in this grid", "")


def _auc_claims(t3: pd.DataFrame) -> list[Claim]:
    return [
        _comparison_claim(t3, "HuMAL-AL beats the baseline where the minority class is rare (paper: 0.64 -> 0.84* "
                          "at 250 x 1 %, 0.75 -> 0.94* at 500 x 1 %)", [("al", 250, 0.01), ("al", 500, 0.01)]),
        _comparison_claim(t3, "... and at 5 % (paper: 0.87 -> 0.96*)", [("al", 250, 0.05)]),
        _comparison_claim(t3, "HuMAL-AL still gains at 20 % (paper: 0.96 -> 0.98*)", [("al", 250, 0.20)]),
        _comparison_claim(t3, "HuMAL-AN and HuMAL-AP gain little: only HuMAL-AP at 5 % is significant in the paper",
                          [(s, 250, r) for s in ("an", "ap") for r in (0.01, 0.05, 0.20)]),
        _comparison_claim(t3, "No strategy gains once the classes are balanced (paper: 0.98 for all four at 50 %)",
                          [(s, 250, 0.50) for s in ("al", "an", "ap")]),
    ]


def _closer_claim(cells: pd.DataFrame) -> Claim:
    claim = "HuMAL-AL's attention is closer to people's than the baseline's (Table V: 0.19-0.27 -> 0.45-0.48)"
    keys = ["data_size", "imbalance_ratio", "bootstrap"]
    pairs = cells[cells["strategy"] == "baseline"].merge(cells[cells["strategy"] == "al"], on=keys,
                                                         suffixes=("_base", "_al"))
    if pairs.empty:
        return Claim(claim, "not measured in this grid", "")
    closer = int((pairs["cosine_to_human_al"] > pairs["cosine_to_human_base"]).sum())
    verdict = "holds" if closer == len(pairs) else f"holds in {closer} of {len(pairs)} paired cells only"
    return Claim(claim, verdict, f"closer in {closer} of {len(pairs)} paired cells; cosine to human "
                 f"{pairs['cosine_to_human_base'].min():.2f}-{pairs['cosine_to_human_base'].max():.2f} (baseline), "
                 f"{pairs['cosine_to_human_al'].min():.2f}-{pairs['cosine_to_human_al'].max():.2f} (HuMAL-AL)")


def _drift_claim(cells: pd.DataFrame) -> Claim:
    claim = ("The baseline's attention moves away from people's as the classes become balanced; "
             "HuMAL-AL's does not")
    means = cells[cells["data_size"] == 250].groupby(["strategy", "imbalance_ratio"])["cosine_to_human"].mean()
    try:
        b1, b50, a1, a50 = (means[(s, r)] for s in ("baseline", "al") for r in (0.01, 0.50))
    except KeyError:
        return Claim(claim, "not measured in this grid", "")
    if b50 >= b1:
        verdict = "does not hold: the baseline's cosine does not fall"
    else:
        verdict = "holds" if a1 - a50 < b1 - b50 else "does not hold: HuMAL-AL's falls as much"
    return Claim(claim, verdict, f"mean cosine to human at 250 x 1 % -> 50 %: baseline {b1:.2f} -> {b50:.2f}, "
                 f"HuMAL-AL {a1:.2f} -> {a50:.2f}")


def _rate_claims(cells: pd.DataFrame) -> list[Claim]:
    if cells.empty:
        return []
    test = cells.drop_duplicates(["data_size", "imbalance_ratio", "bootstrap"])
    human, highlighted = test["human_high_attention_rate"].mean(), test["human_highlight_rate"].mean()
    base = cells[cells["strategy"] == "baseline"]["high_attention_rate"]
    claims = [Claim(f"People's attention is high (above the review's mean + 1 std) on about "
                    f"{100 * PAPER_HUMAN_RATE:.0f} % of Yelp's words",
                    "holds" if abs(human - PAPER_HUMAN_RATE) <= HUMAN_RATE_BAND else "does not hold here",
                    f"{100 * human:.1f} % of the test reviews' words under the summed maps (an annotator "
                    f"highlights {100 * highlighted:.1f} % of words, a different statistic)")]
    if not base.empty:
        rate = base.mean()
        claims.append(Claim("The baseline's attention is high (above the review's mean + 1 std) on about 5 % of words",
                            "holds" if abs(rate - PAPER_BERT_RATE) <= BERT_RATE_BAND
                            else "does not hold for the default model",
                            f"{100 * rate:.1f} % (baseline cells' mean; {100 * base.min():.1f}-{100 * base.max():.1f} %)"))
    return claims


def claims(grid_dir: str | Path) -> list[Claim]:
    """The paper's claims on Table III, Table V and the high-attention rates, judged on the
    grid's committed files by the rules of `CLAIM_RULES`."""
    return _claims(table3(grid_dir), cell_attention(grid_dir))


def _claims(t3: pd.DataFrame, cells: pd.DataFrame) -> list[Claim]:
    """`claims` from the grid's Table III and per-cell attention, read once by the caller."""
    attention = [] if cells.empty else [_closer_claim(cells), _drift_claim(cells), *_rate_claims(cells)]
    return [*_auc_claims(t3), *attention]


def claims_markdown(found: list[Claim]) -> str:
    return "\n".join(f"- **{c.claim}.** {c.verdict[0].upper()}{c.verdict[1:]}." + (f" Measured: {c.measured}." if c.measured else "")
                     for c in found)


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


POSITION_RULES = (
    "Rules: starts high and declines = the first tenth above uniform and a falling least-squares line "
    "over the ten bins (the W is not judged); more equal = a smaller spread (std over the bins) than the "
    "baseline's; priority to the beginning = the first tenth is the highest; smooths the two = "
    "HuMAL-AL's curve lies between the baseline's and people's in at least 7 of the 10 bins.")


def _slope(curve: np.ndarray) -> float:
    """The least-squares line's slope over the bins, per bin."""
    return float(np.polyfit(np.arange(len(curve)), curve, 1)[0])


def _shape(curve: np.ndarray) -> str:
    return (f"first tenth {curve[0]:.2f}, last {curve[-1]:.2f}, highest {curve.max():.2f} at bin "
            f"{int(curve.argmax()) + 1}, lowest {curve.min():.2f} at bin {int(curve.argmin()) + 1}, "
            f"slope {_slope(curve):+.3f} per bin, std {curve.std():.2f}")


def position_claims(curves: pd.DataFrame) -> list[Claim]:
    """Fig. 6's three claims, judged on the pooled curves by `POSITION_RULES`."""
    wide = curves.pivot(index="source", columns="bin", values="attention")
    if not {"human", "baseline"} <= set(wide.index):
        return []
    human, base = wide.loc["human"].to_numpy(), wide.loc["baseline"].to_numpy()
    declines = base[0] > 1 and _slope(base) < 0
    found = [Claim("The baseline's attention starts high and then declines, with a W shape",
                   "holds (start and decline)" if declines else "does not hold", f"baseline: {_shape(base)}")]
    equal, first = human.std() < base.std(), human[0] >= human.max()
    found.append(Claim("People spread attention more equally over the text, with priority to its beginning",
                       "holds" if equal and first else "holds in part" if equal or first else "does not hold",
                       f"more equally: {'yes' if equal else 'no'}, priority to the beginning: {'yes' if first else 'no'}; "
                       f"people: {_shape(human)}"))
    if "al" in wide.index:
        al = wide.loc["al"].to_numpy()
        between = int(((al >= np.minimum(base, human)) & (al <= np.maximum(base, human))).sum())
        found.append(Claim("HuMAL 'smooths' the two curves", "holds" if between >= 7 else "does not hold",
                           f"HuMAL-AL between the baseline and people in {between} of {len(al)} bins, mean distance "
                           f"to people's {np.abs(al - human).mean():.2f} and to the baseline's {np.abs(al - base).mean():.2f}; "
                           f"HuMAL-AL: {_shape(al)}"))
    return found


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
    return "\n\n".join(["\n".join(lines), POSITION_RULES, claims_markdown(position_claims(curves))])


# ---------------------------------------------------------------------- the README block
def grid_facts(grid_dir: Path) -> dict[str, Any]:
    summary = report.read_summary(grid_dir)
    manifest = runs.read_json(grid_dir / MANIFEST_FILE)
    code = manifest.get("code") or {}
    return {"finished": int((summary["status"] == STATUS_FINISHED).sum()), "cells": len(summary),
            "commit": str(code.get("commit") or "")[:7], "name": manifest.get("name", grid_dir.name)}


def markdown(grid_dir: str | Path) -> str:
    """The README's replication block, from the grid's files."""
    grid_dir = Path(grid_dir)
    facts = grid_facts(grid_dir)
    t3, cells = table3(grid_dir), cell_attention(grid_dir)
    return "\n\n".join([
        f"Grid `{facts['name']}` (code at commit {facts['commit']}): {facts['finished']} of {facts['cells']} "
        "cells finished.",
        PAPER_DIFFERENCES,
        "**Table III, here and in the paper** (AUC on 200 balanced test reviews; `*`: Holm-adjusted p < 0.05 over the table; the bound is the one-sided 95 % lower confidence bound that matches the unadjusted test):",
        table3_markdown(t3),
        "**Cosine to human attention and high-attention rate** (test set, per cell; the paper's Table V "
        "form: BERT 0.19-0.27, HuMAL-AL 0.45-0.48 on its personality task):",
        attention_markdown(cells),
        "**The paper's claims, as measured here.** " + CLAIM_RULES,
        claims_markdown(_claims(t3, cells)),
    ])


def paper_section(grid_dir: str | Path) -> str | None:
    """For a grid on Yelp-HAT with cells of the paper's Table III (a): that table beside the
    paper's, the paper's claims judged on it, and Fig. 6's where `attention.json` is at hand,
    as markdown (the grid report's "Against the paper" section). None for any other grid."""
    grid_dir = Path(grid_dir)
    configs = [c.get("config") or {} for c in runs.read_json(grid_dir / MANIFEST_FILE).get("cells") or []]
    if any(c.get("data_file") for c in configs):  # the paper's numbers are Yelp-HAT's
        return None
    t3 = table3(grid_dir)
    keys = {(int(r.data_size), round(float(r.imbalance_ratio), 4)) for r in t3.itertuples()}
    if not keys & set(PAPER_TABLE3):
        return None
    parts = [table3_markdown(t3), CLAIM_RULES, claims_markdown(_claims(t3, cell_attention(grid_dir)))]
    positions = position_markdown(grid_dir)
    if positions is not None:
        parts += ["**Fig. 6, mean attention by relative position** (1.0 = uniform):", positions]
    return "\n\n".join(parts)


if __name__ == "__main__":  # python -m humal_nb.analyses.replication ...: the same as humal-nb replication ...
    from humal_nb.cli.commands import main as cli_main

    raise SystemExit(cli_main(["replication", *sys.argv[1:]]))
