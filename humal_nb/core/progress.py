"""What long steps show while they run: a labelled progress bar and the grid's progress line.

- `progress_bar(total, desc, progress)`: a tqdm bar in the notebook or console, on the
  command's terminal, or none (see its docstring); training's batch bar.
- `labelled_bar(total, desc, progress, unit)`: `progress_bar` (in the notebook or
  console when `progress`, else on the command's terminal when `$HUMAL_PROGRESS` is
  "terminal", as `humal-nb run` and `humal-nb compare` set it for their notebook's kernel)
  counting `unit`s, e.g. "rollout: Baseline" over reviews.
  Faithfulness counts the texts each model runs ("faithfulness: Baseline ... 3954/7909 text").
- `grid_progress_text(...)`: "12 done, 1 failed, 35 left; 4 min 10 s elapsed, about 12 min
  left", the estimate from the durations of the cells finished so far.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from humal_nb.core.names import STATUS_FAILED, STATUS_FINISHED, STATUS_INTERRUPTED, STATUS_NOT_ENOUGH_DATA

#: set to "terminal" by `humal-nb run`: the notebook's kernel shows training progress on the
#: terminal the command runs in (its original stderr), not in the notebook
PROGRESS_VARIABLE = "HUMAL_PROGRESS"


#: set in the kernel of a notebook that Voila serves (Voila shows the page once every cell ran)
VOILA_VARIABLE = "VOILA_KERNEL_ID"


def progress_bar(total: int, desc: str, progress: bool) -> Any:
    """A progress bar: in the notebook or console (`progress`), else on the command's terminal
    when `$HUMAL_PROGRESS` is "terminal", else none.

    Under Voila there is none: its page appears only after every cell ran, so a bar would
    show nothing live, and its widget, created while the page's widget manager loads,
    can render as "Error displaying widget: model not found"."""
    if not progress and os.environ.get(PROGRESS_VARIABLE) == "terminal" and sys.__stderr__ is not None:
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm(total=total, desc=desc, file=sys.__stderr__, unit="batch", dynamic_ncols=True)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not progress or VOILA_VARIABLE in os.environ)


def labelled_bar(total: int, desc: str, progress: bool, unit: str) -> Any:
    """A tqdm bar of `total` `unit`s named `desc` (see the module docstring); close it when done."""
    bar = progress_bar(total, desc, progress)
    bar.unit = unit
    bar.refresh()  # drawn with its unit from the start
    return bar


def duration_text(seconds: float) -> str:
    """A duration as people read it: `35 s`, `4 min 10 s`, `2 h 05 min`."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def grid_progress_text(
    counts: Mapping[str, int], cells: int, elapsed: float, durations: Sequence[float], workers: int = 1
) -> str:
    """A grid's progress line: cells done (finished now or before), not enough data, failed and
    left; the time elapsed; and the time left, estimated as the mean duration of the cells
    finished so far times the rounds of `workers` cells still to run.

    Args:
        counts: the grid's counts by status (`finished`, `skipped`, `not_enough_data`,
            `failed`, `interrupted`; a missing key counts 0).
        cells: the grid's cells in all.
        elapsed: seconds since the grid started.
        durations: wall seconds of each cell finished so far in this run.
        workers: cells run at once.
    """
    done = counts.get(STATUS_FINISHED, 0) + counts.get("skipped", 0)
    failed, unfillable = counts.get(STATUS_FAILED, 0), counts.get(STATUS_NOT_ENOUGH_DATA, 0)
    left = max(0, cells - done - failed - unfillable - counts.get(STATUS_INTERRUPTED, 0))
    parts = [f"{done} done"] + ([f"{unfillable} not enough data"] if unfillable else [])
    text = f"{', '.join(parts)}, {failed} failed, {left} left; {duration_text(elapsed)} elapsed"
    if not left:
        return text
    finished = [float(d) for d in durations if math.isfinite(float(d))]
    if not finished:
        return f"{text}, time left known after the first cell"
    rounds = math.ceil(left / max(1, workers))
    return f"{text}, about {duration_text(sum(finished) / len(finished) * rounds)} left"




@contextmanager
def terminal_progress(on: bool) -> Iterator[None]:
    """Within it, a notebook's kernel shows its progress bars on this command's terminal
    (`$HUMAL_PROGRESS` "terminal"; `humal-nb run` and `humal-nb compare` use it)."""
    before = os.environ.get(PROGRESS_VARIABLE)
    if on:
        os.environ[PROGRESS_VARIABLE] = "terminal"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PROGRESS_VARIABLE, None)
        else:
            os.environ[PROGRESS_VARIABLE] = before


#: the label of the next long step's bar and whether it shows in the notebook (`progress_as`)
_BAR: ContextVar[tuple[str, bool] | None] = ContextVar("humal_bar", default=None)


@contextmanager
def progress_as(desc: str, progress: bool = False) -> Iterator[None]:
    """Within it, a long step that asks `bar_label` (rollout's `word_readings`) names its progress
    bar `desc` (e.g. "rollout: Baseline") and shows it in the notebook or console when `progress`;
    else only on the command's terminal when `$HUMAL_PROGRESS` is "terminal" (`labelled_bar`)."""
    token = _BAR.set((desc, progress))
    try:
        yield
    finally:
        _BAR.reset(token)


def bar_label(default: str) -> tuple[str, bool]:
    """(description, shown in the notebook) of the bar `progress_as` set; `default`, not shown, outside it."""
    return _BAR.get() or (default, False)


__all__ = ["PROGRESS_VARIABLE", "VOILA_VARIABLE", "bar_label", "duration_text", "grid_progress_text", "labelled_bar",
           "progress_as", "progress_bar"]
