"""The files humal_nb ships inside its package: the notebooks (`humal_nb/notebooks/*.ipynb`) and
the parameter presets (`humal_nb/parameters/*.yaml`).

They are found through `importlib.resources`, so a checkout and an installed wheel find them the
same way (a checkout also shows them at its top level, `notebooks/` and `parameters/`, as links
into the package). `resolve_parameter_file` turns what a user typed (`quickstart`, or a YAML
file's path) into a file; `copy_notebooks` (`humal-nb notebooks DIR`) gives a user clean copies
of the notebooks to open in JupyterLab.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.core.errors import HumalError, ParameterError, TargetExistsError

NOTEBOOKS_FOLDER = "notebooks"
PARAMETERS_FOLDER = "parameters"
PRESET_SUFFIXES = (".yaml", ".yml")
#: keys only a grid file has (a run's parameter file has none of them)
GRID_ONLY_KEYS = ("vary", "fixed", "bootstraps", "cell_notebooks", "cell_reports")


def _package_folder(name: str) -> Path:
    """A folder of the installed `humal_nb` package, as a path on disk."""
    folder = resources.files("humal_nb") / name
    path = Path(str(folder))
    if not path.is_dir():
        raise HumalError(
            f"humal_nb's {name} folder is missing from its installation ({path}): humal_nb must be installed "
            "from its wheel or sdist as files on disk (not from a zip archive). Reinstall it with "
            "`pip install --force-reinstall humal_nb-*.whl`."
        )
    return path


def notebooks_dir() -> Path:
    """The folder of the notebooks humal_nb executes (`humal_nb/notebooks`)."""
    return _package_folder(NOTEBOOKS_FOLDER)


def parameters_dir() -> Path:
    """The folder of the parameter presets (`humal_nb/parameters`)."""
    return _package_folder(PARAMETERS_FOLDER)


def notebook_path(file_name: str) -> Path:
    """One of humal_nb's notebooks by its file name (e.g. `train_strategy.ipynb`)."""
    path = notebooks_dir() / file_name
    if not path.is_file():
        names = ", ".join(p.name for p in notebook_files())
        raise HumalError(f"humal_nb has no notebook {file_name!r}; it has {names}.")
    return path


def notebook_files() -> list[Path]:
    """Every notebook humal_nb ships, by name."""
    return sorted(notebooks_dir().glob("*.ipynb"))


def preset_files() -> dict[str, Path]:
    """The parameter presets by name (`quickstart` -> `.../parameters/quickstart.yaml`)."""
    return {p.stem: p for p in sorted(parameters_dir().iterdir()) if p.suffix in PRESET_SUFFIXES and p.is_file()}


def preset_kind(path: str | os.PathLike) -> str:
    """`grid` for a grid file (it has `vary`, `fixed`, `bootstraps`, ...), else `run`."""
    from humal_nb.config.run_config import read_yaml

    return "grid" if any(key in GRID_ONLY_KEYS for key in read_yaml(path)) else "run"


def resolve_parameter_file(name_or_path: str | os.PathLike, kind: str = "run") -> Path:
    """The YAML file a command was given: a file's path when that file exists (it wins), else the
    preset of that name (`quickstart`, `quickstart.yaml` or `parameters/quickstart.yaml`).

    Raises `ParameterError` naming the presets of that `kind` (`run` or `grid`) when it is neither.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    presets = preset_files()
    name = path.stem if path.suffix in PRESET_SUFFIXES else path.name
    if path.parent in (Path("."), Path(PARAMETERS_FOLDER)) and name in presets:
        return presets[name]
    command = "humal-nb run" if kind == "run" else "humal-nb grid"
    of_kind = [n for n, p in presets.items() if preset_kind(p) == kind]
    example = next((n for n in ("quickstart", "table3_yelp", *of_kind) if n in of_kind), "NAME")
    raise ParameterError(
        f"parameter file {str(name_or_path)!r} does not exist and is not the name of a preset. "
        f"Give the path of a YAML file, or a preset's name (`{command} {example}`); "
        f"the {kind} presets are: {', '.join(of_kind) or '(none)'}."
    )


def preset_source(path: str | os.PathLike) -> str:
    """How a record names the parameter file it ran: a preset as `parameters/NAME.yaml` (the same
    in a checkout and an installation), any other file as it was given."""
    try:
        inside = Path(path).resolve().relative_to(parameters_dir().resolve())
    except (ValueError, HumalError):
        return str(path)
    return f"{PARAMETERS_FOLDER}/{inside.as_posix()}"


def copy_notebooks(folder: str | os.PathLike, force: bool = False) -> list[Path]:
    """Write clean copies of humal_nb's notebooks into `folder` (created if need be) for
    JupyterLab: no outputs, no execution counts, each with its one `parameters`-tagged cell.

    Raises `TargetExistsError` naming the files that are already there, unless `force`
    (then they are overwritten). Returns the written files.
    """
    import nbformat

    out = Path(folder).expanduser()
    if out.exists() and not out.is_dir():
        raise TargetExistsError(f"{str(out)!r} is a file, not a folder: give a folder for the notebooks.")
    sources = notebook_files()
    targets = [out / source.name for source in sources]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise TargetExistsError(
            f"{', '.join(str(t) for t in existing)} already {'exists' if len(existing) == 1 else 'exist'}; "
            "nothing was written. "
            "Pass --force to overwrite them, or give another folder."
        )
    out.mkdir(parents=True, exist_ok=True)
    for source, target in zip(sources, targets):
        nb = clean_notebook(nbformat.read(str(source), as_version=4), source.name)
        text = nbformat.writes(nb)
        runs.atomic_write_text(target, text if text.endswith("\n") else text + "\n")  # never a torn notebook
    return targets


def clean_notebook(nb: Any, name: str = "notebook") -> Any:
    """The notebook without outputs and execution counts; refuses one without exactly one
    `parameters`-tagged cell (papermill and the CLI fill that cell)."""
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise HumalError(f"{name} has {len(tagged)} cells tagged 'parameters'; it needs exactly one.")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb
