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

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from humal_nb.analyses.replication import grid_facts, no_gain_verdict, paired_aucs, table3_from_summary
from humal_nb.config import arms, readers, runs
from humal_nb.config.run_config import DEFAULTS, NON_RESULT_KEYS
from humal_nb.core.errors import ParameterError
from humal_nb.core.names import ARM_KEYS, AXES, STATUS_FINISHED
from humal_nb.experiments import report
from humal_nb.measures import stats

#: a budget keeps "most" of HuMAL-AL's gain where its mean paired gain is at least this share
MOST = 0.8
#: where a share of HuMAL-AL's gain (random rationales' or a budget's) is "mostly" one thing: its
#: bootstrap interval lies wholly above (regularisation) or below (people's attention) this share
HALF = 0.5

RULES = (
    "Rules: an arm beats another where the one-sided paired t-test over matched bootstraps gives "
    "p < 0.05 after Holm's adjustment over every comparison of this block; the bound beside it is the "
    "one-sided 95 % lower confidence bound of the mean difference, which matches the unadjusted test "
    "(it lies above 0 exactly where the unadjusted p is below 0.05). An arm does as well as another where "
    f"the paired equivalence test (TOST) places the difference within +-{stats.EQUIVALENCE_MARGIN:g} AUC at "
    "p < 0.05; otherwise the comparison is inconclusive at its number of pairs, with the smallest "
    "difference those pairs could detect at 80 % power. A share of HuMAL-AL's gain is the mean gain over "
    "the baseline of an arm divided by HuMAL-AL's on the same bootstraps, with a paired percentile "
    "bootstrap 95 % interval; a gain is mostly regularisation where random rationales' share has its "
    f"interval above {100 * HALF:.0f} %, mostly people's attention where it lies below, and a budget keeps "
    f"most of the gain where its share is at least {100 * MOST:.0f} %.")


def combined_summary(controls_dir: str | Path, main_dir: str | Path, *more: str | Path) -> pd.DataFrame:
    """The main record's cells and the control records' arms in one summary, arms folded into
    `strategy` (`arms.fold`). A control grid's own plain baseline and HuMAL-AL cells are its
    rerun check (`rerun_check`), not more bootstraps, and are left out."""
    frames = [arms.fold(report.read_summary(main_dir))]
    for folder in (controls_dir, *more):
        controls = arms.fold(report.read_summary(folder))
        frames.append(controls[~controls["strategy"].isin(["baseline", "al"])])
    return pd.concat(frames, ignore_index=True)


#: settings that may differ between paired records: the axes and arms they pair on, where the
#: results go, and how a run was computed (device and micro-batches give the same numbers to rounding)
PAIRING_FREE = (*AXES, *ARM_KEYS, *NON_RESULT_KEYS, "device", "micro_batch_size", "precision", "attention_path")


def check_pairing(controls_dir: Path, main_dir: Path) -> None:
    """Refuse to pair a control record with a main record run at other settings (another epochs,
    model, max_length, ...) or varying a parameter the other does not: their rows would be drawn
    side by side as if comparable, under names with `nan` in them. ParameterError naming the
    settings that differ."""
    own, other = _settings(controls_dir), _settings(main_dir)
    differ = sorted(k for k in set(own) | set(other)
                    if k not in PAIRING_FREE and own.get(k, {_text(DEFAULTS.get(k))}) != other.get(k, {_text(DEFAULTS.get(k))}))
    if differ:
        shown = "; ".join(f"{k}: {', '.join(sorted(own.get(k, {'default'})))} in {controls_dir}, "
                          f"{', '.join(sorted(other.get(k, {'default'})))} in {main_dir}" for k in differ[:4])
        raise ParameterError(f"--paired-with {main_dir}: the records were run at other settings ({shown}). Pair "
                             "records run at the same settings, or draw each on its own (without --paired-with).")


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _settings(grid_dir: Path) -> dict[str, set[str]]:
    """Per parameter, the values the grid's cells ran with (grid.json's configs, else their metrics.json)."""
    listed = readers.listed_cells(grid_dir)
    if listed is not None:
        configs = [c.get("config") or c["parameters"] for c in listed]
    else:
        configs = [runs.read_metrics(grid_dir / c).get("parameters") or {} for c in readers.cells_on_disk(grid_dir) or []
                   if runs.is_complete(grid_dir / c)]
    values: dict[str, set[str]] = {}
    for config in configs:
        for key, value in (config if isinstance(config, dict) else {}).items():
            values.setdefault(key, set()).add(_text(value))
    return values


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
    (arm - reference) with its one-sided 95 % lower bound, the one-sided p that `arm` is ahead
    (`holm_p`: the same until `adjust` sets it over the block), the equivalence p, and the
    smallest difference the pairs could detect."""
    ref, other = paired_aucs(summary, size, ratio, arm, reference=reference)
    gain = float(np.mean(other - ref)) if len(ref) else float("nan")
    p = stats.paired_test(ref, other)[1]
    return {"pairs": len(ref), "wins": int((other > ref).sum()), "gain": gain,
            "gain_lower": stats.lower_bound(ref, other), "p_value": p, "holm_p": p,
            "equivalence_p": stats.equivalence_test(ref, other), "detectable": stats.detectable_effect(ref, other)}


def adjust(comparisons: list[dict]) -> None:
    """Set each comparison's `holm_p`: Holm's adjustment over the family `comparisons`."""
    adjusted = stats.holm([c["p_value"] for c in comparisons])
    for c, p in zip(comparisons, adjusted):
        c["holm_p"] = float(p)


def diff_text(c: dict) -> str:
    if not c["pairs"]:
        return "no pairs yet"
    bound = f" (95 % bound >= {c['gain_lower']:+.3f})" if np.isfinite(c["gain_lower"]) else ""
    p = (f", p = {c['p_value']:.2g}, Holm p = {c['holm_p']:.2g}" if np.isfinite(c["p_value"]) else "")
    small = f"; only {c['pairs']} pairs" if c["pairs"] < 5 else ""
    return f"{c['gain']:+.3f}{bound}, ahead in {c['wins']} of {c['pairs']}{p}{small}".replace("-0.000", "+0.000")


def verdict(c: dict, ahead: str, same: str, reference: str) -> str:
    if c["pairs"] < 2 or not np.isfinite(c["p_value"]):
        return "too few pairs yet"
    if c["holm_p"] < stats.ALPHA:
        return ahead
    return no_gain_verdict(c, same, reference)


def arms_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per size, ratio and arm of HuMAL-AL: AUC, the gain over the baseline, the difference from
    HuMAL-AL on people's rationales, and the verdicts of both comparisons (Holm over the table)."""
    t3 = table3_from_summary(summary)
    al = t3[t3["strategy"].str.startswith("al")]
    with_arms = {(r.data_size, r.imbalance_ratio) for r in al.itertuples() if r.strategy != "al"}
    rows = []
    for _, r in al.iterrows():
        size, ratio, key = int(r["data_size"]), float(r["imbalance_ratio"]), str(r["strategy"])
        if (size, ratio) not in with_arms:  # the settings where the control record has an arm
            continue
        row = {"data_size": size, "imbalance_ratio": ratio, "strategy": key, "n": int(r["n"]),
               "mean_auc": r["mean_auc"], "std_auc": r["std_auc"],
               "vs_baseline": compare_arms(summary, size, ratio, key, "baseline")}
        if key != "al":
            row["vs_human"] = compare_arms(summary, size, ratio, "al", key)
        rows.append(row)
    adjust([c for row in rows for c in (row["vs_baseline"], row.get("vs_human")) if c is not None])
    for row in rows:
        row["vs_baseline_verdict"] = verdict(row["vs_baseline"], "beats the baseline", "no gain over the baseline",
                                              "the baseline")
        if "vs_human" in row:
            row["vs_human_verdict"] = verdict(row["vs_human"], "people's rationales beat it",
                                               "does as well as people's", "people's")
    return pd.DataFrame(rows)


def _cosines(summary: pd.DataFrame) -> pd.Series:
    done = summary[summary["status"] == STATUS_FINISHED]
    return done.groupby(["data_size", "imbalance_ratio", "strategy"])["cosine_to_human"].mean()


def arm_text(key: str) -> str:
    """'people's rationales', 'lexicon rationales, 10 % of reviews, minority first'."""
    parts = arms.arm_parts(key)
    source = parts["rationale_source"]
    text = "people's rationales" if source == "human" else f"{source.replace('_', '-')} rationales"
    if parts["rationale_fraction"] != 1.0:
        text += f", {100 * parts['rationale_fraction']:g} % of reviews"
    if parts["rationale_selection"] != "stratified":
        text += ", minority class first"
    if parts["attention_loss_mean"] != "rationales":
        text += ", loss averaged over the batch"
    return text


def arms_markdown(table: pd.DataFrame, summary: pd.DataFrame) -> str:
    cosine = _cosines(summary)
    lines = ["| size | ratio | HuMAL-AL trained on | n | AUC: mean (std) | cosine to human | gain over baseline: "
             "mean (95 % lower bound) | against the baseline | people's minus this arm: mean (95 % lower bound) "
             "| against people's |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for _, r in table.iterrows():
        vs_human = r.get("vs_human")
        has_human = isinstance(vs_human, dict)
        lines.append(
            f"| {r['data_size']} | {stats.format_ratio(r['imbalance_ratio'])} | {arm_text(r['strategy'])} | {r['n']} | "
            f"{stats.format_cell(r['mean_auc'], r['std_auc'])} | "
            f"{cosine.get((r['data_size'], r['imbalance_ratio'], r['strategy']), np.nan):.2f} | "
            f"{diff_text(r['vs_baseline'])} | {r['vs_baseline_verdict']} | "
            f"{diff_text(vs_human) if has_human else ''} | {r['vs_human_verdict'] if has_human else ''} |")
    return "\n".join(lines)


def _wide(summary: pd.DataFrame, size: int, ratio: float) -> pd.DataFrame:
    """AUC per bootstrap (rows) and arm key (columns) at one size and ratio."""
    done = summary[(summary["status"] == STATUS_FINISHED) & (summary["data_size"] == size)
                   & np.isclose(summary["imbalance_ratio"], ratio)]
    return done.pivot_table(index="bootstrap", columns="strategy", values="auc", aggfunc="mean")


def gain_share(summary: pd.DataFrame, size: int, ratio: float, key: str) -> dict:
    """What arm `key` keeps of HuMAL-AL's gain over the baseline, on the bootstraps where the
    three finished: n, the arm's mean AUC and std, its mean gain, and the share with its paired
    bootstrap 95 % interval (`stats.share_of_gain`)."""
    wide = _wide(summary, size, ratio)
    if not {"baseline", "al", key} <= set(wide.columns):
        return {"n": 0, "mean_auc": np.nan, "std_auc": np.nan, "gain": np.nan, "share": np.nan,
                "share_low": np.nan, "share_high": np.nan}
    wide = wide[["baseline", "al", key]].dropna()
    part, full = wide[key] - wide["baseline"], wide["al"] - wide["baseline"]
    share, low, high = stats.share_of_gain(part, full)
    return {"n": len(wide), "mean_auc": wide[key].mean(), "std_auc": wide[key].std(ddof=1),
            "gain": part.mean() if len(wide) else np.nan, "share": share, "share_low": low, "share_high": high}


def budget_table(summary: pd.DataFrame, size: int = 250, ratio: float = 0.01) -> pd.DataFrame:
    """AUC against the share of reviews with people's rationale (0 = the baseline, 1 = HuMAL-AL),
    one row per budget arm (share, selection rule, loss mean), each on the bootstraps where it,
    the baseline and HuMAL-AL finished, with the share of HuMAL-AL's gain it keeps and its interval."""
    wide = _wide(summary, size, ratio)
    budgets = [k for k in wide.columns if arms.split_key(k)[0] == "al" and arms.split_key(k)[1] == "human"
               and arms.split_key(k)[2] < 1.0]
    if not budgets or not {"baseline", "al"} <= set(wide.columns):
        return pd.DataFrame()
    rows = []
    for key in ["baseline", *sorted(budgets, key=arms.sort_key, reverse=True), "al"]:
        parts = arms.arm_parts(key)
        fraction = 0.0 if key == "baseline" else parts["rationale_fraction"]
        row = {"fraction": fraction, "strategy": key, "selection": parts["rationale_selection"],
               "loss_mean": parts["attention_loss_mean"]}
        if key in ("baseline", "al"):
            column = wide[key].dropna()
            row.update({"n": len(column), "mean_auc": column.mean(), "std_auc": column.std(ddof=1), "gain": np.nan,
                        "share": 0.0 if key == "baseline" else 1.0, "share_low": np.nan, "share_high": np.nan})
        else:
            row.update(gain_share(summary, size, ratio, key))
            plain = arms.arm_key("al", "human", parts["rationale_fraction"])
            if key != plain and plain in wide.columns:  # another rule at the same share: against the plain one
                row["vs_plain"] = compare_arms(summary, size, ratio, key, plain)
        rows.append(row)
    adjust([r["vs_plain"] for r in rows if "vs_plain" in r])
    for r in rows:
        if "vs_plain" in r:
            r["vs_plain_verdict"] = verdict(r["vs_plain"], "beats stratified", "does as well as stratified",
                                            "stratified")
    return pd.DataFrame(rows)


def share_text(r: pd.Series | dict) -> str:
    if not np.isfinite(r["share"]):
        return ""
    interval = f" [{100 * r['share_low']:.0f} %, {100 * r['share_high']:.0f} %]" if np.isfinite(r["share_low"]) else ""
    return f"{100 * r['share']:.0f} %{interval}"


def budget_markdown(budget: pd.DataFrame) -> str:
    """The budget table; where an arm changes the rule at a share (minority class first, the loss
    averaged over the batch), two more columns set it against the stratified arm at that share
    (loss averaged over the reviews with a rationale), Holm over those comparisons."""
    rules = "vs_plain" in budget.columns
    head = ("| reviews with people's rationale | chosen | attention loss averaged over | n | AUC: mean (std) | "
            "gain over baseline | share of HuMAL-AL's gain [95 % CI] |")
    if rules:
        head += " this rule minus stratified at the same share: mean (95 % lower bound) | against stratified |"
    lines = [head, "| --- " * head.count(" | ") + "| --- |"]
    for _, r in budget.iterrows():
        budget_arm = 0 < r["fraction"] < 1
        what = "none (baseline)" if r["fraction"] == 0 else f"{100 * r['fraction']:g} %"
        chosen = ("minority class first" if r["selection"] == "minority_first" else "stratified") if budget_arm else ""
        mean = ("the batch" if r["loss_mean"] == "batch" else "reviews with a rationale") if budget_arm else ""
        gain = f"{r['gain']:+.3f}" if budget_arm and np.isfinite(r["gain"]) else ""
        share = share_text(r) if budget_arm else ("100 %" if r["fraction"] == 1 else "")
        line = (f"| {what} | {chosen} | {mean} | {r['n']} | {stats.format_cell(r['mean_auc'], r['std_auc'])} | "
                f"{gain} | {share} |")
        if rules:
            vs = r.get("vs_plain")
            line += f" {diff_text(vs)} | {r['vs_plain_verdict']} |" if isinstance(vs, dict) else "  |  |"
        lines.append(line)
    return "\n".join(lines)


def mostly(share: dict) -> str:
    if not np.isfinite(share.get("share_low", np.nan)):
        return "too few pairs to tell what it is"
    if share["share_low"] > HALF:
        return "here the gain is mostly regularisation"
    if share["share_high"] < HALF:
        return "here the gain is mostly people's attention"
    return f"at n = {share['n']} the interval spans {100 * HALF:.0f} %: it cannot tell regularisation from people"


def _arm_answers(table: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    found = []
    for source in ("random", "random_outside", "uniform", "lexicon"):
        part = table[table["strategy"] == f"al+{source}"] if len(table) else table
        name = source.replace("_", "-")
        for _, r in part.iterrows():
            where = f"{r['data_size']} x {stats.format_ratio(r['imbalance_ratio'])}"
            found.append(f"**People's rationales against {name} ones at {where}:** {r['vs_human_verdict']} "
                         f"({diff_text(r['vs_human'])}); {name} rationales against the baseline: "
                         f"{r['vs_baseline_verdict']} ({diff_text(r['vs_baseline'])}).")
            if source == "random":
                share = gain_share(summary, int(r["data_size"]), float(r["imbalance_ratio"]), f"al+{source}")
                if share["n"]:
                    found.append(f"**At {stats.format_ratio(r['imbalance_ratio'])}, random rationales give "
                                 f"{share_text(share)} of HuMAL-AL's gain** ({share['n']} bootstraps): "
                                 f"{mostly(share)}.")
    return found


def answers(table: pd.DataFrame, budget: pd.DataFrame, summary: pd.DataFrame | None = None) -> list[str]:
    """The plain answers, each from the tables above by `RULES`."""
    found = _arm_answers(table, summary if summary is not None else pd.DataFrame(columns=["status"]))
    if not budget.empty:
        arms_only = budget[(budget["fraction"] > 0) & (budget["fraction"] < 1)]
        kept = [f"{arm_text(r['strategy'])} keep {share_text(r)} "
                f"({r['n']} bootstraps)" for _, r in arms_only.iterrows()]
        plain = arms_only[(arms_only["selection"] == "stratified") & (arms_only["loss_mean"] == "rationales")]
        enough = [r["fraction"] for _, r in plain.iterrows() if r["share"] >= MOST]
        reach = (f"the smallest stratified share measured that keeps most of it is {100 * min(enough):g} %" if enough
                 else "no stratified share measured below 100 % keeps most of it")
        found.append(f"**How many rationales HuMAL-AL needs** (250 x 1 %): {'; '.join(kept)} of HuMAL-AL's mean "
                     f"gain over the baseline; {reach}.")
    return found or ["No control arm has finished yet."]


def _record_line(folder: Path, main_dir: Path, main: str) -> str:
    facts = grid_facts(folder)
    check = rerun_check(folder, main_dir)
    checked = "; ".join(_rerun_text(r, main) for _, r in check.iterrows()) or "not run yet"
    return (f"Grid `{facts['name']}` (code at commit {facts['commit']}): {facts['finished']} of {facts['cells']} "
            f"cells finished, paired by bootstrap with `{main}`'s baseline and HuMAL-AL. Rerun check: {checked}.")


def markdown(controls_dir: str | Path, main_dir: str | Path, *more: str | Path) -> str:
    """The "Controls" block, from the records' files: the control record `controls_dir` and any
    `more` control records, each paired by bootstrap with the main record `main_dir`."""
    controls_dir, main_dir = Path(controls_dir), Path(main_dir)
    check_pairing(controls_dir, main_dir)
    main = readers.read_manifest(main_dir).get("name", main_dir.name)
    summary = combined_summary(controls_dir, main_dir, *more)
    table = arms_table(summary)
    budget = budget_table(summary)
    parts = [
        *(_record_line(Path(folder), main_dir, main) for folder in (controls_dir, *more)),
        "**HuMAL-AL on people's rationales and on the control arms' rationales** (AUC on 200 balanced test "
        "reviews; the cosine is to people's attention on the test set):",
        arms_markdown(table, summary) if not table.empty else "No arm has finished yet.",
    ]
    if not budget.empty:
        rules = ("; an arm with another rule is set against the stratified arm at its share on matched "
                 "bootstraps, by the rules below but with Holm's adjustment over these rule comparisons alone"
                 if "vs_plain" in budget.columns else "")
        parts += ["**The annotation budget** (HuMAL-AL with people's rationales on a share of the training "
                  f"reviews, the rest trained on cross-entropy only; 250 x 1 %{rules}):", budget_markdown(budget)]
    parts += ["**The answers, as measured here.** " + RULES,
              "\n".join(f"- {a}" for a in answers(table, budget, summary))]
    return "\n\n".join(parts)


__all__ = ["RULES", "adjust", "answers", "arms_table", "budget_table", "combined_summary", "compare_arms",
           "check_pairing", "gain_share", "markdown", "rerun_check"]
