"""`humal-nb --help` and every sub-command's help: each argument has help text, and each option
with a value by default shows it; `tables` writes every format when no --format is given."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from humal_nb.cli import commands as cli
from humal_nb.core.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]
TABLE3 = REPO / "outputs" / "replication" / "table3"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: sub for action in actions for name, sub in action.choices.items()}


def test_every_option_of_every_command_has_help_that_shows_its_default():
    parser = cli.build_parser()
    commands = _subparsers(parser)
    assert {"run", "grid", "bench", "tables", "figures", "predict"} <= set(commands)
    missing, no_default = [], []
    for name, sub in [("humal-nb", parser), *commands.items()]:
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not (action.help or "").strip():
                missing.append(label)
            elif (action.option_strings and action.default not in (None, False, "", argparse.SUPPRESS)
                  and "default" not in action.help and f"(default: {action.default})" not in text):
                no_default.append(label)
    assert not missing, f"arguments without help text: {missing}"
    assert not no_default, f"options whose help hides their default: {no_default}"


def test_help_names_the_defaults_of_workers_executor_device_and_repeats():
    commands = _subparsers(cli.build_parser())
    grid = " ".join(commands["grid"].format_help().split())
    bench = " ".join(commands["bench"].format_help().split())
    assert "(default: 1)" in grid and "(default: local)" in grid
    assert "(default: auto)" in bench and "(default: 7)" in bench
    assert "(default: False)" not in bench  # a flag that is off shows nothing


def test_tables_writes_every_format_by_default(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["tables", str(TABLE3), "--out", str(tmp_path)]) == 0
    suffixes = {p.suffix for p in tmp_path.iterdir()}
    assert suffixes == {".tex", ".md", ".csv"}
    assert (tmp_path / "table3_auc.tex").is_file() and (tmp_path / "table3_auc.csv").is_file()
    assert cli.main(["tables", str(TABLE3), "--format", "csv,html", "--out", str(tmp_path / "x")]) == 2
    assert "'html'" in capsys.readouterr().err


def test_table_formats_are_parsed_and_checked():
    from humal_nb.publication.tables import parse_formats

    assert parse_formats("latex, csv,latex") == ["latex", "csv"]
    assert parse_formats(["markdown"]) == ["markdown"]
    with pytest.raises(ParameterError, match="valid are latex, markdown, csv"):
        parse_formats(",")
