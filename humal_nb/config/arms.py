"""A table row's name: the strategy, with its control arm and annotation budget when not the defaults.

A grid that varies `rationale_source` or `rationale_fraction` (`data.rationales`) compares
arms of one strategy against one baseline. Tables keep each arm as a row of its own, paired
with the baseline by bootstrap: the summary's `strategy` becomes an arm key such as
`al+random` or `al+f0.1`, read as "HuMAL-AL, random" or "HuMAL-AL, 10 % rationales". A budget
that keeps the minority class's rationales first (`rationale_selection`) or averages the
attention loss over the whole batch (`attention_loss_mean`) adds `minority_first` or `batch`.
People's rationales on every review (`human`, 1.0) keep the plain strategy name, so a grid
without arms reads as before.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from humal_nb.core.names import (
    ARM_KEYS,
    ATTENTION_LOSS_MEANS,
    DEFAULT_ATTENTION_LOSS_MEAN,
    DEFAULT_RATIONALE_FRACTION,
    DEFAULT_RATIONALE_SELECTION,
    DEFAULT_RATIONALE_SOURCE,
    RATIONALE_SELECTIONS,
    STRATEGIES,
    STRATEGY_LABELS,
)

SEPARATOR = "+"


def arm_key(
    strategy: str,
    source: Any = DEFAULT_RATIONALE_SOURCE,
    fraction: Any = DEFAULT_RATIONALE_FRACTION,
    selection: Any = DEFAULT_RATIONALE_SELECTION,
    loss_mean: Any = DEFAULT_ATTENTION_LOSS_MEAN,
) -> str:
    """`al`, `al+random`, `al+f0.3`, `al+uniform+f0.1`, `al+f0.1+minority_first`, `al+f0.1+batch`:
    the strategy and what differs from the defaults."""
    parts = [str(strategy)]
    if isinstance(source, str) and source and source != DEFAULT_RATIONALE_SOURCE:
        parts.append(source)
    try:
        value = float(fraction)
    except (TypeError, ValueError):
        value = DEFAULT_RATIONALE_FRACTION
    if math.isfinite(value) and value != DEFAULT_RATIONALE_FRACTION:
        parts.append(f"f{value:g}")
    if isinstance(selection, str) and selection in RATIONALE_SELECTIONS and selection != DEFAULT_RATIONALE_SELECTION:
        parts.append(selection)
    if isinstance(loss_mean, str) and loss_mean in ATTENTION_LOSS_MEANS and loss_mean != DEFAULT_ATTENTION_LOSS_MEAN:
        parts.append(loss_mean)
    return SEPARATOR.join(parts)


def arm_parts(key: str) -> dict[str, Any]:
    """Every part of an arm key: strategy, rationale_source, rationale_fraction,
    rationale_selection and attention_loss_mean (the defaults where the key is silent)."""
    strategy, *rest = str(key).split(SEPARATOR)
    parts: dict[str, Any] = {
        "strategy": strategy,
        "rationale_source": DEFAULT_RATIONALE_SOURCE,
        "rationale_fraction": DEFAULT_RATIONALE_FRACTION,
        "rationale_selection": DEFAULT_RATIONALE_SELECTION,
        "attention_loss_mean": DEFAULT_ATTENTION_LOSS_MEAN,
    }
    for part in rest:
        if part.startswith("f") and is_number(part[1:]):
            parts["rationale_fraction"] = float(part[1:])
        elif part in RATIONALE_SELECTIONS:
            parts["rationale_selection"] = part
        elif part in ATTENTION_LOSS_MEANS:
            parts["attention_loss_mean"] = part
        else:
            parts["rationale_source"] = part
    return parts


def split_key(key: str) -> tuple[str, str, float]:
    """(strategy, rationale source, rationale fraction) of an arm key."""
    parts = arm_parts(key)
    return parts["strategy"], parts["rationale_source"], parts["rationale_fraction"]


#: how a label names a non-default selection rule or loss mean
_PART_LABELS = {"minority_first": "minority first", "batch": "loss over the batch"}


def label(key: str) -> str:
    """'HuMAL-AL', 'HuMAL-AL, random', 'HuMAL-AL, 10 % rationales, minority first'."""
    parts = arm_parts(key)
    text = STRATEGY_LABELS.get(parts["strategy"], parts["strategy"])
    if parts["rationale_source"] != DEFAULT_RATIONALE_SOURCE:
        text += f", {parts['rationale_source'].replace('_', ' ')}"
    if parts["rationale_fraction"] != DEFAULT_RATIONALE_FRACTION:
        text += f", {100 * parts['rationale_fraction']:g} % rationales"
    for key_name, default in (("rationale_selection", DEFAULT_RATIONALE_SELECTION),
                              ("attention_loss_mean", DEFAULT_ATTENTION_LOSS_MEAN)):
        if parts[key_name] != default:
            text += f", {_PART_LABELS.get(parts[key_name], parts[key_name])}"
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
    defaults = {"rationale_source": DEFAULT_RATIONALE_SOURCE, "rationale_fraction": DEFAULT_RATIONALE_FRACTION,
                "rationale_selection": DEFAULT_RATIONALE_SELECTION,
                "attention_loss_mean": DEFAULT_ATTENTION_LOSS_MEAN}
    columns = {k: (frame[k] if k in frame else pd.Series(v, index=frame.index)) for k, v in defaults.items()}

    def text(value: Any, default: str) -> str:
        return value if isinstance(value, str) and value else default

    frame["strategy"] = [
        arm_key(s, text(src, DEFAULT_RATIONALE_SOURCE), f, text(sel, DEFAULT_RATIONALE_SELECTION),
                text(mean, DEFAULT_ATTENTION_LOSS_MEAN))
        for s, src, f, sel, mean in zip(frame["strategy"], columns["rationale_source"],
                                        columns["rationale_fraction"], columns["rationale_selection"],
                                        columns["attention_loss_mean"])
    ]
    return frame.drop(columns=present)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["arm_key", "arm_parts", "fold", "is_number", "label", "sort_key", "split_key"]
