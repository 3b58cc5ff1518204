"""The control record read beside the replication record: is it people's attention that helps?

`outputs/replication/controls` (parameters/replication_controls.yaml) holds HuMAL-AL cells
trained on `random` and `uniform` rationales and on people's rationales for a share of the
training reviews (`rationale_fraction`); its baseline and HuMAL-AL are the replication
record's (`outputs/replication/table3`), paired by bootstrap: the same training subset and
model seed. Two cells of the control grid rerun the replication record's baseline and
HuMAL-AL at 250 x 1 %, bootstrap 0, at the control record's code: equal to the last digit,
they show that the two records pair.

`markdown(controls_dir, main_dir)` writes README's "Controls" block from the two records'
committed files: the rerun check, each arm against the baseline and against people's
rationales, the budget curve, and plain answers by the rules in `RULES`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from humal_nb import arms, report, runs, stats
from humal_nb.names import MANIFEST_FILE, STATUS_FINISHED
from humal_nb.replication import _grid_facts, _pairs, no_gain_verdict, table3_from_summary

#: a budget keeps "most" of HuMAL-AL's gain where its mean paired gain is at least this share
MOST = 0.8

RULES = (
    "Rules: an arm beats another where the one-sided paired t-test over matched bootstraps gives "
    "p < 0.05; it does as well where the paired equivalence test (TOST) places the difference within "
    f"+-{stats.EQUIVALENCE_MARGIN:g} AUC at p < 0.05; otherwise the comparison is inconclusive at its "
    "number of pairs, with the smallest difference those pairs could detect at 80 % power. A budget "
    f"keeps most of HuMAL-AL's gain where its mean gain over the baseline is at least {100 * MOST:.0f} % "
    "of full HuMAL-AL's on the same bootstraps.")


def combined_summary(controls_dir: str | Path, main_dir: str | Path) -> pd.DataFrame:
    """The main record's cells and the control record's arms in one summary, arms folded into
    `strategy` (`arms.fold`). The control grid's own plain baseline and HuMAL-AL cells are its
    rerun check (`rerun_check`), not more bootstraps, and are left out."""
    main = arms.fold(report.read_summary(main_dir))
    controls = arms.fold(report.read_summary(controls_dir))
    controls = controls[~controls["strategy"].isin(["baseline", "al"])]
    return pd.concat([main, controls], ignore_index=True)


def rerun_check(controls_dir: str | Path, main_dir: str | Path) -> pd.DataFrame:
    """Per plain cell of the control grid that the main record also has: AUC and cosine in each."""
    controls_dir, main_dir = Path(controls_dir), Path(main_dir)
    rows = []
    summary = arms.fold(report.read_summary(controls_dir))
    for _, cell in summary[summary["strategy"].isin(["baseline", "al"])].iterrows():
        here, there = controls_dir / cell["cell"], main_dir / cell["cell"]
        if cell["status"] != STATUS_FINISHED or not runs.is_complete(there):
            continue
        new, old = runs.read_metrics(here), runs.read_metrics(there)
        rows.append({"cell": cell["cell"], "auc": new["auc"], "auc_main": old["auc"],
                     "cosine": new["attention"]["cosine_to_human"], "cosine_main": old["attention"]["cosine_to_human"],
                     "same": new["auc"] == old["auc"]
                     and new["attention"]["cosine_to_human"] == old["attention"]["cosine_to_human"]})
    return pd.DataFrame(rows, columns=["cell", "auc", "auc_main", "cosine", "cosine_main", "same"])


def _rerun_text(r: pd.Series, main: str) -> str:
    """One rerun cell against the main record's: identical to the last digit, or by how much it differs."""
    if r["same"]:
        return f"`{r['cell']}` identical to the last digit (AUC {r['auc']:.6g}, cosine to human {r['cosine']:.6g})"
    auc = ("the same AUC" if r["auc"] == r["auc_main"]
           else f"AUC {r['auc']:.6g} against {r['auc_main']:.6g} in `{main}`")
    return (f"`{r['cell']}` {auc}, cosine to human {r['cosine']:.9g} against {r['cosine_main']:.9g} "
            f"(differs by {abs(r['cosine'] - r['cosine_main']):.1g})")


def compare_arms(summary: pd.DataFrame, size: int, ratio: float, arm: str, reference: str) -> dict:
    """`arm` against `reference` over their matched bootstraps: pairs, wins, mean difference
    (arm - reference) and 95 % interval, the one-sided p that `arm` is ahead, the equivalence p,
    and the smallest difference the pairs could detect."""
    ref, other = _pairs(summary, size, ratio, arm, reference=reference)
    gain, low, high = stats.paired_difference(ref, other)
    return {"pairs": len(ref), "wins": int((other > ref).sum()), "gain": gain, "gain_low": low, "gain_high": high,
            "p_value": stats.paired_test(ref, other)[1], "equivalence_p": stats.equivalence_test(ref, other),
            "detectable": stats.detectable_effect(ref, other)}


def _diff_text(c: dict) -> str:
    if not c["pairs"]:
        return "no pairs yet"
    interval = f" [{c['gain_low']:+.3f}, {c['gain_high']:+.3f}]" if np.isfinite(c["gain_low"]) else ""
    p = f", p = {c['p_value']:.2g}" if np.isfinite(c["p_value"]) else ""
    return f"{c['gain']:+.3f}{interval}, ahead in {c['wins']} of {c['pairs']}{p}"


def _verdict(c: dict, ahead: str, same: str, reference: str) -> str:
    if c["pairs"] < 2 or not np.isfinite(c["p_value"]):
        return "too few pairs yet"
    if c["p_value"] < stats.ALPHA:
        return ahead
    return no_gain_verdict(c, same, reference)


def arms_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per size, ratio and arm of HuMAL-AL: AUC, the gain over the baseline, the difference from
    HuMAL-AL on people's rationales, and the verdicts of both comparisons."""
    t3 = table3_from_summary(summary)
    al = t3[t3["strategy"].str.startswith("al")]
    with_arms = {(r.data_size, r.imbalance_ratio) for r in al.itertuples() if r.strategy != "al"}
    rows = []
    for _, r in al.iterrows():
        size, ratio, key = int(r["data_size"]), float(r["imbalance_ratio"]), str(r["strategy"])
        if (size, ratio) not in with_arms:  # the settings where the control record has an arm
            continue
        vs_base = compare_arms(summary, size, ratio, key, "baseline")
        row = {"data_size": size, "imbalance_ratio": ratio, "strategy": key, "n": int(r["n"]),
               "mean_auc": r["mean_auc"], "std_auc": r["std_auc"], "vs_baseline": vs_base,
               "vs_baseline_verdict": _verdict(vs_base, "beats the baseline", "no gain over the baseline",
                                              "the baseline")}
        if key != "al":
            vs_human = compare_arms(summary, size, ratio, "al", key)
            row["vs_human"] = vs_human
            row["vs_human_verdict"] = _verdict(vs_human, "people's rationales beat it", "does as well as people's",
                                               "people's")
        rows.append(row)
    return pd.DataFrame(rows)


def _cosines(summary: pd.DataFrame) -> pd.Series:
    done = summary[summary["status"] == STATUS_FINISHED]
    return done.groupby(["data_size", "imbalance_ratio", "strategy"])["cosine_to_human"].mean()


def arms_markdown(table: pd.DataFrame, summary: pd.DataFrame) -> str:
    cosine = _cosines(summary)
    lines = ["| size | ratio | HuMAL-AL trained on | n | AUC: mean (std) | cosine to human | gain over baseline: "
             "mean [95 % CI] | against the baseline | people's minus this arm: mean [95 % CI] | against people's |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for _, r in table.iterrows():
        _, source, fraction = arms.split_key(r["strategy"])
        what = ("people's rationales" if source == "human" else f"{source} rationales") + (
            f", {100 * fraction:g} % of reviews" if fraction != 1.0 else "")
        vs_human = r.get("vs_human")
        has_human = isinstance(vs_human, dict)
        lines.append(
            f"| {r['data_size']} | {stats.format_ratio(r['imbalance_ratio'])} | {what} | {r['n']} | "
            f"{stats.format_cell(r['mean_auc'], r['std_auc'])} | "
            f"{cosine.get((r['data_size'], r['imbalance_ratio'], r['strategy']), np.nan):.2f} | "
            f"{_diff_text(r['vs_baseline'])} | {r['vs_baseline_verdict']} | "
            f"{_diff_text(vs_human) if has_human else ''} | {r['vs_human_verdict'] if has_human else ''} |")
    return "\n".join(lines)


def budget_table(summary: pd.DataFrame, size: int = 250, ratio: float = 0.01) -> pd.DataFrame:
    """AUC against the share of reviews with a rationale (0 = the baseline, 1 = HuMAL-AL) on
    the bootstraps where every fraction finished, and the share of HuMAL-AL's gain each keeps."""
    done = summary[(summary["status"] == STATUS_FINISHED) & (summary["data_size"] == size)
                   & np.isclose(summary["imbalance_ratio"], ratio)]
    keys = {0.0: "baseline", 1.0: "al"}
    for key in done["strategy"].unique():
        strategy, source, fraction = arms.split_key(key)
        if strategy == "al" and source == "human" and fraction < 1.0:
            keys[fraction] = key
    if len(keys) < 3:
        return pd.DataFrame()
    wide = done[done["strategy"].isin(keys.values())].pivot_table(index="bootstrap", columns="strategy",
                                                                  values="auc", aggfunc="mean").dropna()
    full = (wide["al"] - wide["baseline"]).mean() if len(wide) else np.nan
    rows = []
    for fraction, key in sorted(keys.items()):
        gain = (wide[key] - wide["baseline"]).mean() if len(wide) else np.nan
        rows.append({"fraction": fraction, "strategy": key, "n": len(wide), "mean_auc": wide[key].mean(),
                     "std_auc": wide[key].std(ddof=1), "gain": gain, "share_of_gain": gain / full if full else np.nan})
    return pd.DataFrame(rows)


def budget_markdown(budget: pd.DataFrame) -> str:
    lines = ["| reviews with a rationale | n | AUC: mean (std) | gain over baseline | share of HuMAL-AL's gain |",
             "| --- | --- | --- | --- | --- |"]
    for _, r in budget.iterrows():
        what = "none (baseline)" if r["fraction"] == 0 else f"{100 * r['fraction']:g} %"
        share = "" if r["fraction"] == 0 else f"{100 * r['share_of_gain']:.0f} %"
        gain = "" if r["fraction"] == 0 else f"{r['gain']:+.3f}"
        lines.append(f"| {what} | {r['n']} | {stats.format_cell(r['mean_auc'], r['std_auc'])} | {gain} | {share} |")
    return "\n".join(lines)


def answers(table: pd.DataFrame, budget: pd.DataFrame) -> list[str]:
    """The plain answers, each from the tables above by `RULES`."""
    found = []
    for source in ("random", "uniform"):
        part = table[table["strategy"] == f"al+{source}"] if len(table) else table
        for _, r in part.iterrows():
            where = f"{r['data_size']} x {stats.format_ratio(r['imbalance_ratio'])}"
            found.append(f"**People's rationales against {source} ones at {where}:** {r['vs_human_verdict']} "
                         f"({_diff_text(r['vs_human'])}); {source} rationales against the baseline: "
                         f"{r['vs_baseline_verdict']} ({_diff_text(r['vs_baseline'])}).")
    if not budget.empty:
        kept = [f"{100 * r['fraction']:g} % of reviews keep {100 * r['share_of_gain']:.0f} %"
                for _, r in budget.iterrows() if 0 < r["fraction"] < 1]
        enough = [r["fraction"] for _, r in budget.iterrows() if 0 < r["fraction"] < 1 and r["share_of_gain"] >= MOST]
        reach = (f"the smallest share measured that keeps most of it is {100 * min(enough):g} %" if enough
                 else "no share measured below 100 % keeps most of it")
        found.append(f"**How many rationales HuMAL-AL needs** (250 x 1 %, {int(budget['n'].iloc[0])} bootstraps with "
                     f"every share): {'; '.join(kept)} of HuMAL-AL's mean gain over the baseline; {reach}.")
    return found or ["No control arm has finished yet."]


def markdown(controls_dir: str | Path, main_dir: str | Path) -> str:
    """README's "Controls" block, from the two records' files."""
    controls_dir, main_dir = Path(controls_dir), Path(main_dir)
    facts, main = _grid_facts(controls_dir), runs.read_json(Path(main_dir) / MANIFEST_FILE).get("name", main_dir.name)
    summary = combined_summary(controls_dir, main_dir)
    check = rerun_check(controls_dir, main_dir)
    checked = "; ".join(_rerun_text(r, main) for _, r in check.iterrows()) or "not run yet"
    table = arms_table(summary)
    budget = budget_table(summary)
    parts = [
        f"Grid `{facts['name']}` (code at commit {facts['commit']}): {facts['finished']} of {facts['cells']} cells "
        f"finished, paired by bootstrap with `{main}`'s baseline and HuMAL-AL. Rerun check: {checked}.",
        "**HuMAL-AL on people's, random and uniform rationales** (AUC on 200 balanced test reviews; the "
        "cosine is to people's attention on the test set):",
        arms_markdown(table, summary) if not table.empty else "No arm has finished yet.",
    ]
    if not budget.empty:
        parts += ["**The annotation budget** (HuMAL-AL with people's rationales on a share of the training "
                  "reviews, the rest trained on cross-entropy only; 250 x 1 %):", budget_markdown(budget)]
    parts += ["**The answers, as measured here.** " + RULES, "\n".join(f"- {a}" for a in answers(table, budget))]
    return "\n\n".join(parts)


__all__ = ["RULES", "answers", "arms_table", "budget_table", "combined_summary", "compare_arms", "markdown",
           "rerun_check"]
