"""The documentation site: its generated reference pages match the code, every run parameter has
help text, and `mkdocs build --strict` (warnings, broken internal links and anchors as errors)
builds the site offline."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys

import pytest

from humal_nb.config import run_config as config
from humal_nb.core.paths import REPO_ROOT


def _reference():
    spec = importlib.util.spec_from_file_location("docs_reference", REPO_ROOT / "scripts" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_reference_pages_match_the_code():
    reference = _reference()
    for name, make in reference.PAGES.items():
        assert (REPO_ROOT / "docs" / "reference" / name).read_text() == make(), (
            f"docs/reference/{name} differs from the code: run python scripts/docs_reference.py (make docs does)")


def test_every_parameter_has_help_and_a_field_without_it_stops_the_reference(monkeypatch):
    rows = config.parameter_help()
    assert list(rows) == list(config.PARAMETER_NAMES)
    assert all(row["help"].strip() for row in rows.values())
    text = _reference().parameters_markdown()
    for name in config.PARAMETER_NAMES:
        assert f"| `{name}` |" in text
    broken = {**rows, "new_field": {"type": "int", "default": 0, "choices": None, "help": ""}}
    monkeypatch.setattr(config, "parameter_help", lambda: broken)
    with pytest.raises(SystemExit, match="new_field"):
        _reference().parameters_markdown()


def test_a_dataclass_field_without_metadata_has_no_help():
    """What the check above guards against: a field added as `name: int = 0` carries no help."""

    @dataclasses.dataclass
    class Example:
        plain: int = 0

    assert "help" not in dataclasses.fields(Example)[0].metadata


@pytest.mark.slow
def test_the_site_builds_strictly_offline(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir",
                             str(tmp_path / "site")], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "parameters" / "index.html").is_file()
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    assert "Run.open" in api or "humal_nb.experiments.run.Run" in api


def _readme_commands() -> list[str]:
    import re

    text = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [re.split(r"\s+#\s", line)[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_is_short_and_every_command_it_shows_parses():
    """The README is a two-minute guide (<= 250 lines); each `humal-nb ...` line of its code blocks
    parses with the real argument parser as written, and each `make` target exists."""
    import shlex

    from humal_nb.cli.commands import build_parser

    assert len((REPO_ROOT / "README.md").read_text().splitlines()) <= 250
    commands = _readme_commands()
    assert {c.split()[0] for c in commands} == {"make", "humal-nb"}
    parser = build_parser()
    makefile = (REPO_ROOT / "Makefile").read_text()
    for command in commands:
        words = shlex.split(command)
        if words[0] == "make":
            assert f"\n{words[1]}:" in makefile, command
            continue
        args = parser.parse_args(words[1:])
        assert args.command == words[1], command
    assert sum(c.startswith("humal-nb") for c in commands) >= 8


def test_readme_links_point_at_files_that_exist():
    import re

    text = (REPO_ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith("http"):
            assert (REPO_ROOT / target).exists(), target
