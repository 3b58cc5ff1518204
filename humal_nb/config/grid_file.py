"""A grid file: what a grid varies and fixes, expanded into one validated run per cell.

See `humal_nb.experiments.grid` for the format; `load_grid` reads a file or a mapping and refuses a
bad one before anything runs, naming the key and the cell.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humal_nb.config.run_config import DEFAULTS, PARAMETER_NAMES, RunConfig, read_yaml, renamed_parameters
from humal_nb.core.errors import ParameterError
from humal_nb.core.names import ARM_KEYS, AXES

GRID_KEYS = ("name", "description", "vary", "fixed", "bootstraps", "cell_notebooks", "cell_reports")
NAMED_AXES = (*AXES, "length_group", *ARM_KEYS, "shortcut_rate")  # the cell name (`RunConfig.cell_name`) shows them
GRID_DEFAULTS = {"save_model": False}



@dataclass
class Grid:
    """An expanded grid: its name, the cells' configs, the parameters that vary."""

    name: str
    cells: list[RunConfig]
    varying: list[str]
    cell_reports: bool = False
    cell_notebooks: bool = False

    def cell_names(self) -> list[str]:
        return [cell_dir_name(c, self.varying) for c in self.cells]


# ---------------------------------------------------------------------- reading a grid file
def load_grid(path_or_dict: str | Path | dict[str, Any]) -> Grid:
    """Read and validate a grid (file or mapping) into its cells; nothing runs."""
    if isinstance(path_or_dict, dict):
        spec, where, default_name = dict(path_or_dict), "grid", "grid"
    else:
        spec, where, default_name = read_yaml(path_or_dict), str(path_or_dict), Path(path_or_dict).stem
    spec = _renamed(spec)
    unknown = sorted((k for k in spec if k not in GRID_KEYS and k not in PARAMETER_NAMES), key=str)
    if unknown:
        raise ParameterError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}. A grid file has {', '.join(GRID_KEYS)} "
            f"and run parameters: {', '.join(PARAMETER_NAMES)}."
        )
    name = str(spec.get("name") or default_name)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ParameterError(f"{where}: 'name' {name!r} must be a folder name (letters, digits, _ . -).")
    fixed, bootstraps = _fixed_values(spec, where)
    cell_reports, cell_notebooks = _switches(spec, where)
    combos = _combinations(spec, where, fixed, bootstraps)
    cells = _cells(combos, fixed, where)
    grid = Grid(name, cells, varying_keys(cells), cell_reports, cell_notebooks)
    names = grid.cell_names()
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:  # pragma: no cover - cell_dir_name includes every varied key
        raise ParameterError(f"{where}: cells share the folder name(s) {', '.join(duplicates)}.")
    return grid


def _renamed(spec: dict[str, Any]) -> dict[str, Any]:
    """The grid with renamed parameters' old keys read as their new names, at the top level, in
    `fixed` and in every `vary` block (`config.renamed_parameters`)."""
    spec = renamed_parameters(spec)
    if isinstance(spec.get("fixed"), dict):
        spec["fixed"] = renamed_parameters(spec["fixed"])
    vary = spec.get("vary")
    if isinstance(vary, dict):
        spec["vary"] = renamed_parameters(vary)
    elif isinstance(vary, list):
        spec["vary"] = [renamed_parameters(b) if isinstance(b, dict) else b for b in vary]
    return spec


def _fixed_values(spec: dict[str, Any], where: str) -> tuple[dict[str, Any], int | None]:
    """The values every cell shares (grid defaults, top level, `fixed`) and `bootstraps`."""
    fixed = spec.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise ParameterError(f"{where}: 'fixed' must be a mapping of parameter: value.")
    top = {k: v for k, v in spec.items() if k in PARAMETER_NAMES}
    twice = sorted(set(fixed) & set(top), key=str)
    if twice:
        raise ParameterError(f"{where}: {', '.join(map(repr, twice))} given both in 'fixed' and at the top level.")
    fixed = {**GRID_DEFAULTS, **top, **fixed}
    if fixed.get("out_dir"):
        raise ParameterError(f"{where}: 'out_dir' is set per cell in a grid; give the grid's folder with --out.")
    bootstraps = spec.get("bootstraps")
    if bootstraps is not None and (isinstance(bootstraps, bool) or not isinstance(bootstraps, int) or bootstraps < 1):
        raise ParameterError(f"{where}: 'bootstraps' must be a whole number >= 1, got {bootstraps!r}.")
    if bootstraps is not None and "bootstrap" in {**top, **(spec.get("fixed") or {})}:
        raise ParameterError(f"{where}: give either 'bootstraps: N' or a fixed 'bootstrap', not both.")
    return fixed, bootstraps


def _switches(spec: dict[str, Any], where: str) -> tuple[bool, bool]:
    """(cell_reports, cell_notebooks); a report is the executed notebook's, so it implies it."""
    switches = {}
    for key in ("cell_notebooks", "cell_reports"):
        switches[key] = spec.get(key, False)
        if not isinstance(switches[key], bool):
            raise ParameterError(f"{where}: {key!r} must be true or false, got {switches[key]!r}.")
    return switches["cell_reports"], switches["cell_notebooks"] or switches["cell_reports"]


def _combinations(
    spec: dict[str, Any], where: str, fixed: dict[str, Any], bootstraps: int | None
) -> list[dict[str, Any]]:
    """The varied values of every cell: the union of each `vary` block's cross product, in order,
    each repeated `bootstraps` times."""
    if "vary" in spec and not spec["vary"]:
        raise ParameterError(
            f"{where}: 'vary' is empty. List the parameters to vary with their values (vary: {{strategy: "
            "[baseline, al]}), or leave 'vary' out for a grid of one cell, repeated 'bootstraps' times."
        )
    blocks = spec.get("vary") or {}
    blocks = blocks if isinstance(blocks, list) else [blocks]
    combos: list[dict[str, Any]] = []
    for i, block in enumerate(blocks):
        label = f"{where}: vary" + (f"[{i}]" if len(blocks) > 1 else "")
        _check_block(block, label, fixed, bootstraps)
        keys = list(block)
        for values in itertools.product(*(block[k] for k in keys)):
            combos.append(dict(zip(keys, values)))
    combos = combos or [{}]
    if bootstraps is not None:
        combos = [{**combo, "bootstrap": b} for combo in combos for b in range(bootstraps)]
    return combos


def _check_block(block: Any, label: str, fixed: dict[str, Any], bootstraps: int | None) -> None:
    if not isinstance(block, dict):
        raise ParameterError(f"{label} must be a mapping of parameter: [values].")
    for key, values in block.items():
        if key not in PARAMETER_NAMES:
            raise ParameterError(f"{label}: unknown parameter {key!r}. Valid parameters: {', '.join(PARAMETER_NAMES)}.")
        if key in fixed and key not in GRID_DEFAULTS:
            raise ParameterError(f"{label}: {key!r} is both varied and fixed.")
        if key == "out_dir":
            raise ParameterError(f"{label}: 'out_dir' is set per cell in a grid.")
        if key == "bootstrap" and bootstraps is not None:
            raise ParameterError(f"{label}: give either 'bootstraps: N' or vary 'bootstrap', not both.")
        if not isinstance(values, list) or not values:
            raise ParameterError(f"{label}: {key!r} must be a non-empty list of values, got {values!r}.")


def _cells(combos: list[dict[str, Any]], fixed: dict[str, Any], where: str) -> list[RunConfig]:
    """One validated RunConfig per combination (the error names the cell); repeats dropped."""
    cells: list[RunConfig] = []
    seen: set[str] = set()
    for combo in combos:
        try:
            config = RunConfig.from_dict({**fixed, **combo})
        except ParameterError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in combo.items())
            raise ParameterError(f"{where}: cell ({shown}): {exc}") from exc
        key = json.dumps(config.to_dict(), sort_keys=True)
        if key not in seen:  # the union of blocks may repeat a cell
            seen.add(key)
            cells.append(config)
    return cells


def varying_keys(cells: list[RunConfig]) -> list[str]:
    """The paper's axes (always), then every other parameter whose value differs across cells."""
    dicts = [c.to_dict() for c in cells]
    differ = [k for k in PARAMETER_NAMES if len({json.dumps(d[k]) for d in dicts}) > 1]
    extra = [k for k in differ if k not in AXES]
    if any(d["length_group"] for d in dicts) and "length_group" not in extra:
        extra.insert(0, "length_group")
    for key in ARM_KEYS:  # a control arm or budget is always a column, even when every cell shares it
        if key not in extra and any(d[key] != DEFAULTS[key] for d in dicts):
            extra.append(key)
    return [*AXES, *extra]


def expand_grid(path_or_dict: str | Path | dict[str, Any]) -> tuple[str, list[RunConfig]]:
    """(grid name, one validated RunConfig per cell) of a grid file or mapping."""
    grid = load_grid(path_or_dict)
    return grid.name, grid.cells


def _short(value: Any) -> str:
    text = Path(value).name if isinstance(value, str) and os.sep in value else f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "none"


def cell_dir_name(config: RunConfig, varying: list[str] | tuple[str, ...] = ()) -> str:
    """`config.cell_name()`, plus `key-value` for each other parameter the grid varies."""
    parts = [config.cell_name()]
    for key in varying:
        if key not in NAMED_AXES:
            parts.append(f"{key}-{_short(getattr(config, key))}")
    return "_".join(parts)
