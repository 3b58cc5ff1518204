"""Make the committed replication records name no path of the machine that computed them.

    .venv/bin/python scripts/portable_records.py [--check] [FOLDER ...]

Every `metrics.json` under the given folders (default `outputs/replication`) is rewritten the
way `train.shared_metrics` writes a new run's: the run's own `out_dir` becomes "." (the folder
that holds the file), and any other absolute path among the path-valued parameters (`model`,
`data_dir`, `data_file`) and the top-level `model` becomes its last component (a folder named
by its name: a path relative to another machine's folder would name nothing here). Nothing
else changes: no number, no key order, and the file keeps the JSON formatting humal_nb writes
(`runs.write_json`). A file that already names no absolute path is left untouched, so running
the script again changes nothing.

With `--check` nothing is written: the script lists the files it would rewrite and exits 1
when there is any (0 when every record is portable already).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.core.paths import PATH_PARAMETERS, REPO_ROOT

DEFAULT_FOLDER = REPO_ROOT / "outputs" / "replication"


def _is_absolute(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and (Path(value).is_absolute() or value.startswith("~"))


def portable_record(metrics: dict[str, Any]) -> dict[str, Any]:
    """A record's metrics with its out_dir "." and every other absolute path cut to its last component."""
    shared = dict(metrics)
    parameters = shared.get("parameters")
    if isinstance(parameters, dict):
        parameters = dict(parameters)
        for key in PATH_PARAMETERS:
            if _is_absolute(parameters.get(key)):
                parameters[key] = "." if key == "out_dir" else Path(parameters[key]).expanduser().name
        shared["parameters"] = parameters
    if _is_absolute(shared.get("model")):
        shared["model"] = Path(shared["model"]).expanduser().name
    return shared


def rewrite(folders: list[Path], check: bool = False) -> list[Path]:
    """The metrics.json files under `folders` that named an absolute path (rewritten unless `check`)."""
    changed = []
    for folder in folders:
        for path in sorted(Path(folder).rglob(runs.METRICS_FILE)):
            metrics = runs.read_json(path)
            if not isinstance(metrics, dict):
                continue
            portable = portable_record(metrics)
            if portable != metrics:
                changed.append(path)
                if not check:
                    runs.write_json(path, portable)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[DEFAULT_FOLDER],
                        help="folders whose metrics.json files are rewritten (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="only list the files that name an absolute path; exit 1 if any (default: %(default)s)")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        parser.error(f"not a folder: {', '.join(missing)}; pass folders that hold run records")
    changed = rewrite(args.folders, check=args.check)
    verb = "names an absolute path" if args.check else "rewritten"
    for path in changed:
        print(f"{verb}: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    print(f"{len(changed)} file(s) {verb}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
