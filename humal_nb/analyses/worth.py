"""When are people's rationales worth paying for? The answer, written from the committed records.

Four records, siblings under `outputs/replication/`, answer it together:

- `table3` (the replication record): the baseline and HuMAL-AL on people's rationales;
- `controls` and `rationales` (control records paired with `table3` by bootstrap): HuMAL-AL on
  random, uniform, random-outside and lexicon rationales, and on people's rationales for a share
  of the training reviews (stratified or minority class first, the attention loss averaged over
  the rationales or over the batch);
- `shortcut`: at the quickstart's settings with a class token planted in a share of the training
  texts (`data.shortcut`), the baseline and HuMAL-AL on people's, random-outside and lexicon
  rationales, each with the clean test AUC and the AUC on the flipped test (the token planted
  against the label): the drop from one to the other is the model's reliance on the shortcut.

`markdown(records)` writes the section: the controls block (`controls.markdown`) over both
control records, the shortcut table, and a decision guide whose every line follows from a
verdict above it by `controls.RULES`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from humal_nb.analyses import controls, replication
from humal_nb.config import arms
from humal_nb.core.names import MANIFEST_FILE, STATUS_FINISHED, SUMMARY_FILE
from humal_nb.experiments import report
from humal_nb.measures import stats

#: the records' folder names under the records folder
MAIN, CONTROLS, RATIONALES, SHORTCUT = "table3", "controls", "rationales", "shortcut"


def _present(folder: Path) -> bool:
    return (folder / SUMMARY_FILE).is_file() and (folder / MANIFEST_FILE).is_file()


# ---------------------------------------------------------------------- the shortcut record
def reliance_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The finished cells of a shortcut record with arms folded into `strategy` and `reliance`:
    clean AUC minus flipped AUC."""
    if "auc_flipped" not in summary.columns:
        return pd.DataFrame(columns=["data_size", "imbalance_ratio", "strategy", "bootstrap", "auc", "auc_flipped",
                                     "reliance"])
    done = arms.fold(summary[summary["status"] == STATUS_FINISHED]).copy()
    done["reliance"] = done["auc"] - done["auc_flipped"]
    return done


def _paired(frame: pd.DataFrame, arm: str, reference: str, value: str) -> tuple[np.ndarray, np.ndarray]:
    wide = frame.pivot_table(index="bootstrap", columns="strategy", values=value, aggfunc="mean")
    if arm not in wide or reference not in wide:
        return np.zeros(0), np.zeros(0)
    both = wide[[reference, arm]].dropna()
    return both[reference].to_numpy(float), both[arm].to_numpy(float)


def _less_reliance(frame: pd.DataFrame, arm: str, reference: str) -> dict:
    """Does `arm` rely less on the shortcut than `reference`? The paired difference
    reference - arm of reliance: its mean, one-sided lower bound and p (Holm set later)."""
    ref, other = _paired(frame, arm, reference, "reliance")
    p = stats.paired_test(other, ref)[1]  # reference's reliance greater than the arm's
    return {"pairs": len(ref), "wins": int((other < ref).sum()), "gain": float(np.mean(ref - other)) if len(ref)
            else float("nan"), "gain_lower": stats.lower_bound(other, ref), "p_value": p, "holm_p": p,
            "equivalence_p": stats.equivalence_test(other, ref), "detectable": stats.detectable_effect(other, ref)}


def shortcut_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per size, ratio, shortcut rate (where the grid varies it) and arm: n, clean and flipped AUC
    (mean, std), reliance (mean and its 95 % t-interval), and for HuMAL-AL's arms whether each
    relies less than the baseline (Holm over the table)."""
    frame = reliance_frame(summary)
    if "shortcut_rate" not in frame.columns:  # a grid with one rate: its cells' metrics say which
        frame = frame.assign(shortcut_rate=np.nan)
    rows = []
    for (size, ratio, rate), part in frame.groupby(["data_size", "imbalance_ratio", "shortcut_rate"], sort=True,
                                                   dropna=False):
        for key in sorted(part["strategy"].unique(), key=arms.sort_key):
            cells = part[part["strategy"] == key]
            mean, low, high = stats.paired_difference(cells["auc_flipped"], cells["auc"])
            row = {"data_size": int(size), "imbalance_ratio": float(ratio), "shortcut_rate": float(rate),
                   "strategy": key, "n": len(cells),
                   "auc": cells["auc"].mean(), "auc_std": cells["auc"].std(ddof=1),
                   "auc_flipped": cells["auc_flipped"].mean(), "auc_flipped_std": cells["auc_flipped"].std(ddof=1),
                   "reliance": mean, "reliance_low": low, "reliance_high": high}
            if key != "baseline":
                row["vs_baseline"] = _less_reliance(part, key, "baseline")
            rows.append(row)
    controls.adjust([r["vs_baseline"] for r in rows if "vs_baseline" in r])
    for r in rows:
        if "vs_baseline" in r:
            r["verdict"] = controls.verdict(r["vs_baseline"], "relies less than the baseline",
                                             "relies as much as the baseline", "the baseline")
    return pd.DataFrame(rows)


def _name(key: str) -> str:
    return "baseline" if key == "baseline" else f"HuMAL-AL on {controls.arm_text(key)}"


def shortcut_markdown(table: pd.DataFrame) -> str:
    lines = ["| size | ratio | trained | n | clean AUC: mean (std) | flipped AUC: mean (std) | reliance: clean - "
             "flipped, mean [95 % CI] | less reliance than the baseline: mean (95 % lower bound) | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for _, r in table.iterrows():
        interval = (f" [{r['reliance_low']:+.3f}, {r['reliance_high']:+.3f}]" if np.isfinite(r["reliance_low"])
                    else "")
        vs = r.get("vs_baseline")
        has = isinstance(vs, dict)
        lines.append(f"| {r['data_size']} | {stats.format_ratio(r['imbalance_ratio'])} | {_name(r['strategy'])} | "
                     f"{r['n']} | {stats.format_cell(r['auc'], r['auc_std'])} | "
                     f"{stats.format_cell(r['auc_flipped'], r['auc_flipped_std'])} | "
                     f"{r['reliance']:+.3f}{interval} | {controls.diff_text(vs) if has else ''} | "
                     f"{r['verdict'] if has else ''} |")
    text = "\n".join(lines)
    return text.replace("-0.000", "+0.000")


def _shortcut_rate(folder: Path) -> float:
    from humal_nb.config import runs

    manifest = runs.read_json(folder / MANIFEST_FILE)
    rates = {float((c.get("config") or {}).get("shortcut_rate", 0.0)) for c in manifest.get("cells", [])}
    return max(rates) if rates else 0.0


def shortcut_section(folder: Path) -> tuple[str, pd.DataFrame]:
    facts = replication.grid_facts(folder)
    rate = _shortcut_rate(folder)
    table = shortcut_table(report.read_summary(folder))
    head = (f"Grid `{facts['name']}` (code at commit {facts['commit']}): {facts['finished']} of {facts['cells']} cells "
            f"finished. The quickstart's settings (6 epochs, 128 tokens, the default model, CPU); the class token "
            f"(`!` in positive, `?` in negative reviews, replacing their sentence punctuation) planted in "
            f"{100 * rate:g} % of each class's training texts, never marked by any rationale. The flipped test is "
            "the 200 test reviews with the other class's token planted in every one.")
    return "\n\n".join([head, shortcut_markdown(table) if not table.empty else "No cell has finished yet."]), table


# ---------------------------------------------------------------------- the decision guide
def _row(table: pd.DataFrame, key: str, ratio: float) -> pd.Series | None:
    if table.empty:
        return None
    part = table[(table["strategy"] == key) & np.isclose(table["imbalance_ratio"], ratio)]
    return None if part.empty else part.iloc[0]


def _pairs(c: dict, word: str = "ahead") -> str:
    """'ahead in 19 of 20 pairs, Holm p = 1.3e-06'."""
    return f"{word} in {c['wins']} of {c['pairs']} pairs, Holm p = {c['holm_p']:.2g}"


def _brief(c: dict) -> str:
    """'+0.238 AUC, ahead in 19 of 20 pairs, Holm p = 1.3e-06': a comparison in one clause."""
    return f"{c['gain']:+.3f} AUC, {_pairs(c)}" if c["pairs"] else "no pairs yet"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_CHEAPER = (("al+random", "randomly placed"), ("al+random_outside", "random-outside"), ("al+uniform", "uniform"),
            ("al+lexicon", "a lexicon's free"))


def _guide_rare(table: pd.DataFrame) -> list[str]:
    found = [(name, r) for key, name in _CHEAPER if (r := _row(table, key, 0.01)) is not None
             and isinstance(r.get("vs_human"), dict)]
    if not found:
        return []
    beaten = [f"{name} ones ({_brief(r['vs_human'])})" for name, r in found
              if r["vs_human_verdict"] == "people's rationales beat it"]
    open_ = [f"{name} ones ({_brief(r['vs_human'])}: {r['vs_human_verdict']})" for name, r in found
             if r["vs_human_verdict"] != "people's rationales beat it"]
    helped = [name for name, r in found if r["vs_baseline_verdict"] == "beats the baseline"]
    if beaten and not open_:
        lead = ("**A rare minority class (1 %): people's rationales are worth paying for.** They beat every "
                f"cheaper source measured: {_listed(beaten)}.")
    elif beaten:
        lead = (f"**A rare minority class (1 %): people's rationales beat some cheaper sources:** {_listed(beaten)}; "
                f"not shown against {_listed(open_)}.")
    else:
        lead = f"**A rare minority class (1 %): no cheaper source was shown to fall behind people's:** {_listed(open_)}."
    tail = (f" Of the cheaper sources, {_listed(helped)} rationales beat the baseline." if helped else
            " None of the cheaper sources was shown to beat the baseline.")
    return [lead + tail]


def _guide_moderate(summary: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    r = _row(table, "al+random", 0.05)
    if r is None:
        return []
    share = controls.gain_share(summary, int(r["data_size"]), 0.05, "al+random")
    c = r["vs_human"]
    bought = "and beat them" if r["vs_human_verdict"] == "people's rationales beat it" else "and were not shown to beat them"
    line = (f"**A moderate imbalance (5 %): {controls.mostly(share).removeprefix('here ')}.** Random rationales "
            f"give {controls.share_text(share)} of HuMAL-AL's gain; people's rationales add {c['gain']:+.3f} AUC over "
            f"random ones ({_pairs(c)}) {bought}")
    lexicon = _row(table, "al+lexicon", 0.05)
    if lexicon is not None and isinstance(lexicon.get("vs_human"), dict):
        than = ("beat" if lexicon["vs_human_verdict"] == "people's rationales beat it" else "were not shown to beat")
        line += f"; they {than} a lexicon's free ones ({_brief(lexicon['vs_human'])})"
    return [line + "."]


def _reliance_clause(r: pd.Series) -> str:
    c = r["vs_baseline"]
    name = controls.arm_text(r["strategy"])
    change = f"cut it by {c['gain']:.3f} AUC" if c["gain"] >= 0 else f"raised it by {-c['gain']:.3f} AUC"
    return f"{name} {change} ({_pairs(c, 'lower')})"


def _guide_shortcut(table: pd.DataFrame) -> list[str]:
    if table.empty or "vs_baseline" not in table.columns:
        return []
    lines = []
    for (size, ratio), part in table.groupby(["data_size", "imbalance_ratio"], sort=False):
        part = part[part["vs_baseline"].map(lambda v: isinstance(v, dict))]
        if part.empty:
            continue
        shown = [controls.arm_text(k) for k in part.loc[part["verdict"] == "relies less than the baseline", "strategy"]]
        where = f"{size} x {stats.format_ratio(ratio)}"
        lead = (f"**A suspected shortcut ({where}): {_listed(shown)} cut the baseline's reliance on it.**" if shown
                else f"**A suspected shortcut ({where}): no arm was shown to cut the baseline's reliance on it.**")
        lines.append(f"{lead} Set against the baseline's reliance on the planted token, "
                     f"{'; '.join(_reliance_clause(r) for _, r in part.iterrows())}.")
    return lines


def _budget_name(key: str) -> str:
    return controls.arm_text(key).removeprefix("people's rationales, ")


def _closest(arms_only: pd.DataFrame) -> str:
    """' (the closest: 10 % of reviews, 79.7 %)': the budget arm nearest the bar, to one decimal
    (the tables round shares to whole percent)."""
    finite = arms_only[np.isfinite(arms_only["share"].astype(float))]
    if finite.empty:
        return ""
    best = finite.loc[finite["share"].astype(float).idxmax()]
    return f" (the closest: {_budget_name(best['strategy'])}, {100 * best['share']:.1f} %)"


def _guide_budget(budget: pd.DataFrame) -> list[str]:
    if budget.empty:
        return []
    arms_only = budget[(budget["fraction"] > 0) & (budget["fraction"] < 1)]
    if arms_only.empty:
        return []
    kept = [f"{_budget_name(r['strategy'])} keep {controls.share_text(r)} ({r['n']} bootstraps)" for _, r in arms_only.iterrows()]
    most = [_budget_name(r["strategy"]) for _, r in arms_only.iterrows() if r["share"] >= controls.MOST]
    lead = (f"**On a budget (250 x 1 %): {_listed(most)} keep most (>= {100 * controls.MOST:.0f} %) of HuMAL-AL's "
            "gain.**" if most else f"**On a budget (250 x 1 %): no share below 100 % keeps most "
            f"(>= {100 * controls.MOST:.0f} %) of HuMAL-AL's gain{_closest(arms_only)}.**")
    line = f"{lead} Of HuMAL-AL's gain, {'; '.join(kept)}."
    rules = arms_only[arms_only["vs_plain"].map(lambda v: isinstance(v, dict))] if "vs_plain" in arms_only else []
    if len(rules):
        said = [f"{_rule_name(r)} gives {r['vs_plain']['gain']:+.3f} AUC ({_pairs(r['vs_plain'])})"
                for _, r in rules.iterrows()]
        better = [_rule_name(r) for _, r in rules.iterrows() if r["vs_plain_verdict"] == "beats stratified"]
        verdict = (f"{_listed(better)} beat{'s' if len(better) == 1 else ''} it" if better
                   else "none was shown to beat it")
        line += (" Against the plain rule at the same share (stratified, the loss averaged over the reviews with a "
                 f"rationale), {_listed(said)}: {verdict}.")
    return [line]


def _rule_name(r: pd.Series) -> str:
    first = r["selection"] == "minority_first"
    rule = "the minority class first" if first else ""
    if r["loss_mean"] == "batch":
        rule += " with the loss averaged over the batch" if first else "averaging the loss over the batch"
    return f"{rule} ({100 * r['fraction']:g} %)"


def markdown(records: str | Path) -> str:
    """The section "When are people's rationales worth paying for?", from the records' files."""
    records = Path(records)
    main = records / MAIN
    more = [records / RATIONALES] if _present(records / RATIONALES) else []
    parts = ["### People's rationales against free and random ones, and budgets"]
    summary = controls.combined_summary(records / CONTROLS, main, *more)
    parts.append(controls.markdown(records / CONTROLS, main, *more))
    parts.append("### A planted shortcut")
    shortcut = pd.DataFrame()
    if _present(records / SHORTCUT):
        text, shortcut = shortcut_section(records / SHORTCUT)
        parts.append(text)
    else:
        parts.append("The shortcut record has not started.")
    table = controls.arms_table(summary)
    guide = [*_guide_rare(table), *_guide_moderate(summary, table), *_guide_shortcut(shortcut),
             *_guide_budget(controls.budget_table(summary))]
    parts.append("### A decision guide, as measured here")
    parts.append("\n".join(f"- {line}" for line in guide) or "No verdict yet.")
    return "\n\n".join(parts)


__all__ = ["markdown", "reliance_frame", "shortcut_markdown", "shortcut_section", "shortcut_table"]
