"""Where things live: repository root, data directory, default model, outputs."""

from __future__ import annotations

import os
from pathlib import Path

from humal_nb.errors import DataNotFoundError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
YELP_HAT_URL = "https://github.com/cansusen/Human-Attention-Maps-for-Text-Classification"


PATH_VARIABLES = ("HUMAL_DATA_DIR", "HUMAL_OUTPUTS")


def absolute_path_variables() -> None:
    """Make a relative `$HUMAL_DATA_DIR` / `$HUMAL_OUTPUTS` absolute, read from the folder the
    command was started in: the notebooks' kernels and grid workers inherit them but run in
    the repository's root, where a relative path would name another folder."""
    for name in PATH_VARIABLES:
        value = os.environ.get(name)
        if value:
            os.environ[name] = str(Path(value).expanduser().resolve())


def outputs_dir() -> Path:
    """The folder runs write to: `$HUMAL_OUTPUTS` or `<repo>/outputs`."""
    return Path(os.environ.get("HUMAL_OUTPUTS", REPO_ROOT / "outputs"))


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Data directory: the argument, `$HUMAL_DATA_DIR`, `../shared/data/yelp_hat`."""
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
    default = REPO_ROOT.parent / "shared" / "data" / "yelp_hat"
    if default.is_dir():
        return default
    raise DataNotFoundError(
        "No Yelp-HAT data found. Put the five CSV files (ham_part1(50words).csv, "
        "ham_part2(50words).csv, ham_part6(100words).csv, ham_part7.csv, "
        f"ham_part8(200words).csv) from {YELP_HAT_URL} in a folder and pass it as "
        "data_dir (or --data-dir), or set $HUMAL_DATA_DIR, or place them in "
        f"{default}."
    )
