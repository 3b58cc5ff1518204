"""The README's pictures (scripts/readme_pictures.py, `make readme-pictures`): each one the
manifest lists is there with its sha256, together they stay small, the README shows exactly
them, and fig3.png is what its command writes from the committed replication record."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest

from humal_nb.core.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "readme_pictures.py"
README = REPO_ROOT / "README.md"
PICTURES = {"fig3.png", "explorer.png", "annotate.png"}
REFERENCE = re.compile(r"outputs/readme/[\w.-]+\.png")


@pytest.fixture(scope="module")
def script():
    """scripts/readme_pictures.py as a module (not a package: loaded from its path)."""
    spec = importlib.util.spec_from_file_location("readme_pictures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def manifest(script) -> dict:
    assert script.MANIFEST.exists(), f"{script.MANIFEST} is missing: run `make readme-pictures`"
    return json.loads(script.MANIFEST.read_text(encoding="utf-8"))


def test_every_picture_matches_the_manifest_and_fits_the_budget(script, manifest):
    pictures = manifest["pictures"]
    assert set(pictures) == PICTURES
    total = 0
    for name, entry in pictures.items():
        path = script.OUT / name
        assert path.exists(), f"{name} is in the manifest but missing"
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} changed since the manifest was written"
        assert len(data) == entry["bytes"] and data.startswith(b"\x89PNG\r\n\x1a\n")
        assert entry["made_by"] and entry["inputs"]
        total += len(data)
    assert total < script.BUDGET_BYTES
    assert sorted(p.name for p in script.OUT.glob("*.png")) == sorted(pictures), "a PNG the manifest does not list"


def test_the_readme_shows_exactly_the_manifest_pictures(script, manifest):
    references = REFERENCE.findall(README.read_text(encoding="utf-8"))
    for reference in references:
        assert (REPO_ROOT / reference).exists(), f"README shows {reference}, which is missing"
        assert Path(reference).name in manifest["pictures"], f"README shows {reference}, not in the manifest"
    assert sorted(Path(r).name for r in references) == sorted(PICTURES), "README should show each picture once"


@pytest.mark.slow
def test_fig3_is_what_its_command_writes(script, tmp_path):
    made = script.fig3_png(REPO_ROOT / script.RECORD, tmp_path / "fig3.png")
    assert made.read_bytes() == (script.OUT / "fig3.png").read_bytes()
