"""Where things live: the checkout (when humal_nb runs from one), the data directory, the
outputs, the folder a command started in; and how reports name a folder (`display_path`:
relative to where the command ran, never the machine's absolute path).

Defaults follow the user, not the installation: runs write under `./outputs` of the folder a
command started in (or `$HUMAL_OUTPUTS`), and the data comes from `data_dir`, `$HUMAL_DATA_DIR`,
or, only in a checkout, `../shared/data/yelp_hat` beside it."""

from __future__ import annotations

import os
from pathlib import Path

from humal_nb.core.errors import DataNotFoundError

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # humal_nb/ (this file is humal_nb/core/paths.py)
#: the folder above the package: the repository's root when humal_nb runs from its checkout
#: (`checkout_root()` says whether it does), site-packages' parent when it is installed
REPO_ROOT = PACKAGE_DIR.parent
YELP_HAT_URL = "https://github.com/cansusen/Human-Attention-Maps-for-Text-Classification"
YELP_HAT_FILES = ("ham_part1(50words).csv", "ham_part2(50words).csv", "ham_part6(100words).csv",
                  "ham_part7.csv", "ham_part8(200words).csv")


def checkout_root() -> Path | None:
    """The repository's root when humal_nb runs from its checkout (a `pyproject.toml` and a
    `.git` beside the package), else None (an installed wheel or sdist)."""
    if (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / ".git").exists():
        return REPO_ROOT
    return None


PATH_VARIABLES = ("HUMAL_DATA_DIR", "HUMAL_OUTPUTS")


def absolute_path_variables() -> None:
    """Make a relative `$HUMAL_DATA_DIR` / `$HUMAL_OUTPUTS` absolute, read from the folder the
    command was started in: the notebooks' kernels and grid workers inherit them, and a
    notebook opened in JupyterLab runs in its own folder, where a relative path would name
    another folder."""
    for name in PATH_VARIABLES:
        value = os.environ.get(name)
        if value:
            os.environ[name] = str(Path(value).expanduser().resolve())


#: the folder a `humal-nb` command was started in (set by the CLI): the notebook kernels and
#: grid workers it starts inherit it and run there; `display_path` names folders relative to it
CWD_VARIABLE = "HUMAL_CWD"


def record_start_folder() -> None:
    """Record the folder the command was started in as `$HUMAL_CWD`, for the kernels and
    workers it starts (they inherit it and run in it: `work_folder`)."""
    os.environ[CWD_VARIABLE] = os.getcwd()


def work_folder() -> Path:
    """The user's working folder: where a `humal-nb` command was started (`$HUMAL_CWD`, which its
    kernels and workers inherit), else the working directory. Default outputs go below it."""
    return Path(os.environ.get(CWD_VARIABLE) or os.getcwd())


def relative_base() -> Path:
    """What a relative path that names nothing in the working directory is read from: the
    checkout's root (a notebook opened from the checkout's `notebooks/` runs in that folder), else
    the user's working folder."""
    return checkout_root() or work_folder()


def display_path(path: str | os.PathLike) -> str:
    """How reports, notebook outputs and messages name a folder or file, never by the machine's
    absolute path: relative to the folder the command was started in (`$HUMAL_CWD`, else the
    working directory), else under the outputs folder (`outputs/quickstart`), else under the
    home folder (`~/runs/x`), else its last two parts (`pytest-7/grid`)."""
    target = _absolute(path)
    start = _inside(target, _absolute(os.environ.get(CWD_VARIABLE) or os.getcwd()))
    if start is not None:
        return start.as_posix() if start.parts else "."
    outputs = _absolute(outputs_dir())
    below = _inside(target, outputs)
    if below is not None:
        return (Path(outputs.name) / below).as_posix()
    try:
        home = _inside(target, Path.home())
    except RuntimeError:  # no home folder known
        home = None
    if home is not None:
        return f"~/{home.as_posix()}" if home.parts else "~"
    return "/".join(target.parts[1:][-2:]) or "."


def portable_path(value: str, base: str | os.PathLike) -> str:
    """A path as a shared file records it: a relative path as given; an absolute one relative to
    `base` (the folder of the file that records it) when the two share more than the file system's
    root, else its last component (a model folder named by its name). Never the machine's
    absolute path."""
    if not value or not Path(value).expanduser().is_absolute():
        return value
    target, folder = _absolute(value), _absolute(base)
    common = Path(os.path.commonpath([target, folder]))
    if common == Path(common.anchor):
        return target.name
    return Path(os.path.relpath(target, folder)).as_posix()


#: run parameters that hold a path
PATH_PARAMETERS = ("model", "data_dir", "data_file", "out_dir")


def portable_parameters(parameters: dict, base: str | os.PathLike) -> dict:
    """A run's parameters with every path made `portable_path` from `base` (the run's folder)."""
    return {k: portable_path(v, base) if k in PATH_PARAMETERS and isinstance(v, str) else v
            for k, v in parameters.items()}


def _absolute(path: str | os.PathLike) -> Path:
    """`path` made absolute from the working directory, `~` expanded, `..` folded."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _inside(path: Path, folder: Path) -> Path | None:
    """`path` relative to `folder` when it lies inside it (symbolic links followed if need be)."""
    for inner, outer in ((path, folder), (path.resolve(), folder.resolve())):
        try:
            return inner.relative_to(outer)
        except ValueError:
            continue
    return None


def outputs_dir() -> Path:
    """The folder runs write to: `$HUMAL_OUTPUTS`, else `outputs/` of the user's working folder
    (`work_folder`: where the command started; `make demo` starts in the checkout's root)."""
    return Path(os.environ.get("HUMAL_OUTPUTS") or work_folder() / "outputs")


def default_data_dir() -> Path | None:
    """The data folder used when none is given: `../shared/data/yelp_hat` beside the checkout,
    only when humal_nb runs from its checkout; None when installed."""
    root = checkout_root()
    return root.parent / "shared" / "data" / "yelp_hat" if root is not None else None


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Data directory: the argument, `$HUMAL_DATA_DIR`, then (in a checkout only)
    `../shared/data/yelp_hat` beside the checkout."""
    if data_dir:
        path = Path(data_dir).expanduser()
        if not path.is_dir():
            raise DataNotFoundError(
                f"data_dir {str(path)!r} is not a directory. Point it at the folder that "
                f"holds the Yelp-HAT CSV files (ham_part*.csv), published at {YELP_HAT_URL}."
            )
        return path
    env = os.environ.get("HUMAL_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataNotFoundError(
                f"$HUMAL_DATA_DIR={env!r} is not a directory. Set it to the folder that holds "
                f"the Yelp-HAT CSV files (ham_part*.csv), published at {YELP_HAT_URL}."
            )
        return path
    default = default_data_dir()
    if default is not None and default.is_dir():
        return default
    beside = (f", or (in the checkout) place them in {display_path(default)}" if default is not None else "")
    raise DataNotFoundError(
        f"No Yelp-HAT data found. Download the five CSV files ({', '.join(YELP_HAT_FILES)}) from "
        f"{YELP_HAT_URL}, put them in one folder (e.g. ./data/yelp_hat) and point humal_nb at it: "
        "`export HUMAL_DATA_DIR=./data/yelp_hat`, or `--data-dir FOLDER` (humal-nb data-info), "
        f"or `-p data_dir=FOLDER` (humal-nb run) / the notebook parameter data_dir{beside}."
    )
