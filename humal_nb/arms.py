"""A table row's name: the strategy, with its control arm and annotation budget when not the defaults.

A grid that varies `rationale_source` or `rationale_fraction` (`data.rationales`) compares
arms of one strategy against one baseline. Tables keep each arm as a row of its own, paired
with the baseline by bootstrap: the summary's `strategy` becomes an arm key such as
`al+random` or `al+f0.1`, read as "HuMAL-AL, random" or "HuMAL-AL, 10 % rationales".
People's rationales on every review (`human`, 1.0) keep the plain strategy name, so a grid
without arms reads as before.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from humal_nb.names import ARM_KEYS, DEFAULT_RATIONALE_FRACTION, DEFAULT_RATIONALE_SOURCE, STRATEGIES, STRATEGY_LABELS

SEPARATOR = "+"


def arm_key(strategy: str, source: Any = DEFAULT_RATIONALE_SOURCE, fraction: Any = DEFAULT_RATIONALE_FRACTION) -> str:
    """`al`, `al+random`, `al+f0.3`, `al+uniform+f0.1`: the strategy and what differs from the defaults."""
    parts = [str(strategy)]
    if isinstance(source, str) and source and source != DEFAULT_RATIONALE_SOURCE:
        parts.append(source)
    try:
        value = float(fraction)
    except (TypeError, ValueError):
        value = DEFAULT_RATIONALE_FRACTION
    if math.isfinite(value) and value != DEFAULT_RATIONALE_FRACTION:
        parts.append(f"f{value:g}")
    return SEPARATOR.join(parts)


def split_key(key: str) -> tuple[str, str, float]:
    """(strategy, rationale source, rationale fraction) of an arm key."""
    strategy, *rest = str(key).split(SEPARATOR)
    source, fraction = DEFAULT_RATIONALE_SOURCE, DEFAULT_RATIONALE_FRACTION
    for part in rest:
        if part.startswith("f") and is_number(part[1:]):
            fraction = float(part[1:])
        else:
            source = part
    return strategy, source, fraction


def label(key: str) -> str:
    """'HuMAL-AL', 'HuMAL-AL, random', 'HuMAL-AL, 10 % rationales'."""
    strategy, source, fraction = split_key(key)
    text = STRATEGY_LABELS.get(strategy, strategy)
    if source != DEFAULT_RATIONALE_SOURCE:
        text += f", {source}"
    if fraction != DEFAULT_RATIONALE_FRACTION:
        text += f", {100 * fraction:g} % rationales"
    return text


def sort_key(key: str) -> tuple[int, int, float, str]:
    """Rows in the paper's strategy order; under each strategy people's rationales first, then
    the budgets from the largest, then the other sources."""
    strategy, source, fraction = split_key(key)
    order = STRATEGIES.index(strategy) if strategy in STRATEGIES else len(STRATEGIES)
    return order, int(source != DEFAULT_RATIONALE_SOURCE), -fraction, f"{source}:{strategy}"


def fold(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with each row's arm folded into `strategy` (`arm_key`) and the arm columns
    dropped; a summary without arm columns is returned as it is."""
    present = [k for k in ARM_KEYS if k in summary.columns]
    if not present:
        return summary
    frame = summary.copy()
    source = frame["rationale_source"] if "rationale_source" in frame else DEFAULT_RATIONALE_SOURCE
    fraction = frame["rationale_fraction"] if "rationale_fraction" in frame else DEFAULT_RATIONALE_FRACTION
    sources = source if isinstance(source, pd.Series) else pd.Series(source, index=frame.index)
    fractions = fraction if isinstance(fraction, pd.Series) else pd.Series(fraction, index=frame.index)
    frame["strategy"] = [arm_key(s, src if isinstance(src, str) else DEFAULT_RATIONALE_SOURCE, f)
                         for s, src, f in zip(frame["strategy"], sources, fractions)]
    return frame.drop(columns=present)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["arm_key", "fold", "is_number", "label", "sort_key", "split_key"]
