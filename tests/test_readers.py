"""The readers of humal_nb's files (`humal_nb.config.readers`) and the commands that read through them:
a damaged or cut-short file is refused by name or rebuilt from what it summarises, never read
as a smaller result; a model folder without its tokenizer is refused before any training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from humal_nb.cli import commands as cli
from humal_nb.config import readers, runs
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ModelError, ParameterError
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import grid, report
from humal_nb.experiments.run import Run
from humal_nb.publication import tables

RECORDS = REPO_ROOT / "outputs" / "replication"


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(RECORDS / name, tmp_path / name))


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_summary_cut_short_is_rebuilt_from_the_cells_and_table_iii_has_every_bootstrap(tmp_path, capsys):
    grid_dir = _copy("table3", tmp_path)
    whole = (grid_dir / "summary.csv").read_text()
    (grid_dir / "summary.csv").write_text("".join(whole.splitlines(keepends=True)[:5]))
    code, out, err = _cli(["tables", str(grid_dir), "--format", "csv", "--out", str(tmp_path / "t")], capsys)
    assert code == 0 and "rebuilt it from the grid's cells" in err and "lists 4 cells, the grid has 150" in err
    assert (grid_dir / "summary.csv").read_text() == whole
    expected = tables.write_tables(RECORDS / "table3", fmt="csv", out=tmp_path / "expected")
    for path in expected.files:
        assert (tmp_path / "t" / path.name).read_text() == path.read_text()


@pytest.mark.parametrize("text, problem", [
    ("", "it is empty"),
    ('cell,strategy\n"a', "it is not a readable CSV"),
    ("cell,strategy,data_size\nx,al,250\n", r"it lacks the column\(s\) imbalance_ratio, bootstrap"),
])
def test_a_damaged_summary_without_cells_is_refused_by_name(tmp_path, text, problem):
    (tmp_path / "summary.csv").write_text(text)
    with pytest.raises(DataFormatError, match=f"summary.csv: {problem}.*humal-nb report"):
        report.read_summary(tmp_path)


def test_a_summary_that_disagrees_with_a_cell_is_rebuilt(tmp_path, capsys):
    grid_dir = _copy("shortcut_pilot", tmp_path)
    whole = (grid_dir / "summary.csv").read_text()
    (grid_dir / "summary.csv").write_text(whole.replace(",finished,", ",failed,", 1))
    frame = report.read_summary(grid_dir)
    assert (frame["status"] == "finished").all() and "listed as failed, but the cell has finished" in capsys.readouterr().err
    assert (grid_dir / "summary.csv").read_text() == whole


def test_a_damaged_cell_or_grid_json_is_named(tmp_path, capsys):
    grid_dir = _copy("shortcut_pilot", tmp_path)
    cell = sorted(p for p in grid_dir.iterdir() if p.is_dir())[0]
    (cell / "metrics.json").write_text((cell / "metrics.json").read_text()[:200])
    code, _, err = _cli(["tables", str(grid_dir), "--out", str(tmp_path / "t")], capsys)
    assert code == 2 and f"{cell.name}/metrics.json is not valid JSON" in err and "Traceback" not in err
    (grid_dir / "grid.json").write_text('{"cells": [')
    code, _, err = _cli(["figures", str(grid_dir), "--out", str(tmp_path / "f")], capsys)
    assert code == 2 and "grid.json is not valid JSON" in err and not (tmp_path / "f").exists()


@pytest.mark.parametrize("command", ["tables", "figures", "replication"])
def test_folder_arguments_that_are_no_grid_are_refused_in_one_line(tmp_path, capsys, command):
    cell = RECORDS / "shortcut_pilot" / "baseline_n250_r0.5_b0_s1"
    cases = [str(tmp_path / "nowhere"), str(RECORDS / "table3" / "summary.csv")]
    if command == "replication":
        cases.append(str(cell))
    for folder in cases:
        code, _, err = _cli([command, folder], capsys)
        assert code == 2 and err.count("\n") <= 2 and "Traceback" not in err, err
        assert Path(folder).name in err


def test_out_naming_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "taken").write_text("mine")
    for command in ("tables", "figures"):
        code, _, err = _cli([command, str(RECORDS / "shortcut_pilot"), "--out", str(tmp_path / "taken")], capsys)
        assert code == 2 and "taken is a file: name a folder" in err
    assert (tmp_path / "taken").read_text() == "mine"


@pytest.mark.heavy
def test_figures_paired_with_a_record_at_other_settings_is_refused(tmp_path, capsys):
    controls = _copy("controls", tmp_path)
    code, _, err = _cli(["figures", str(RECORDS / "batching_check"), "--paired-with", str(RECORDS / "table3"),
                         "--out", str(tmp_path / "f")], capsys)
    assert code == 2 and "run at other settings" in err and "epochs: 3" in err
    assert not (tmp_path / "f").exists()
    controls_written = tmp_path / "ok"
    code, out, _ = _cli(["figures", str(controls), "--paired-with", str(RECORDS / "table3"), "--format", "png",
                         "--out", str(controls_written)], capsys)
    assert code == 0 and not any("nan" in p.name for p in controls_written.iterdir())


def test_run_open_says_what_the_folder_is():
    with pytest.raises(ParameterError, match=r"is a grid's folder, not a run: open one of its cells, e\.g\. Run\.open"):
        Run.open(RECORDS / "table3")
    with pytest.raises(ParameterError, match="is a file, not a run folder"):
        Run.open(RECORDS / "table3" / "summary.csv")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        Run.open(RECORDS / "nowhere")


def test_a_cut_short_attention_json_is_named_by_figures(tmp_path, capsys):
    from fake_runs import write_pair

    run = write_pair(tmp_path / "run")
    text = (run / "attention.json").read_text()
    (run / "attention.json").write_text(text[: len(text) // 2])
    code, _, err = _cli(["figures", str(run), "--out", str(tmp_path / "f")], capsys)
    assert code == 2 and "attention.json is not valid JSON" in err and "Traceback" not in err


# ---------------------------------------------------------------------- model folders
def _weights_only(tmp_path: Path) -> Path:
    from humal_nb.method.models import default_model_path

    folder = tmp_path / "weights_only"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        (folder / name).symlink_to(default_model_path() / name)
    return folder


def test_a_model_folder_without_its_tokenizer_is_refused(tmp_path):
    from humal_nb.method.models import check_model

    folder = _weights_only(tmp_path)
    with pytest.raises(ModelError, match="no tokenizer files.*knows only its special tokens"):
        check_model(str(folder))
    from tiny_models import wordpiece_tokenizer

    wordpiece_tokenizer().save_pretrained(folder)  # a tokenizer, but not this model's (86 of 30522 tokens)
    with pytest.raises(ModelError, match="its tokenizer knows 81 tokens .* the model has 30522"):
        check_model(str(folder))
    check_model("all-MiniLM-L6-v2")


def test_a_grid_refuses_a_bad_model_folder_before_its_first_cell(tmp_path):
    folder = _weights_only(tmp_path)
    spec = {"name": "bad_model", "fixed": {"n_test": 20, "model": str(folder)},
            "vary": {"data_size": [20], "strategy": ["baseline", "al"]}}
    with pytest.raises(ModelError, match=r"grid bad_model, cell baseline_n20_r0\.05_b0 .*no tokenizer files.*No cell has run"):
        grid.run_grid(spec, out_dir=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    spec["fixed"] = {"n_test": 20, "device": "cuda"}
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="device 'cuda' was asked for.*No cell has run"):
            grid.run_grid(spec, out_dir=tmp_path / "out", progress=False)


def test_metrics_with_a_number_as_text_is_no_finished_run(tmp_path):
    metrics = runs.read_metrics(RECORDS / "shortcut_pilot" / "baseline_n250_r0.5_b0_s1")
    assert readers.metrics_problem(metrics) is None
    runs.write_json(tmp_path / "metrics.json", {**metrics, "auc": "0.9"})
    assert not runs.is_complete(tmp_path)
    with pytest.raises(DataFormatError, match=r"metrics.json is not a finished run's: 'auc' is '0.9'"):
        readers.read_metrics(tmp_path)
    runs.write_json(tmp_path / "metrics.json", {**metrics, "history": [{"ce_loss": "x"}]})
    with pytest.raises(DataFormatError, match="'history' epoch 1"):
        readers.read_metrics(tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["history"] == [{"ce_loss": "x"}]


# ---------------------------------------------------------------------- the command line's errors
def test_an_error_is_one_line_unless_debug_asks_for_the_traceback(tmp_path, capsys, monkeypatch):
    code, _, err = _cli(["tables", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and err.count("\n") == 1 and "nowhere" in err
    with pytest.raises(DataNotFoundError):
        cli.main(["--debug", "tables", str(tmp_path / "nowhere")])
    monkeypatch.setenv("HUMAL_DEBUG", "1")
    with pytest.raises(DataNotFoundError):
        cli.main(["tables", str(tmp_path / "nowhere")])


def test_an_unchecked_error_is_one_line_and_a_hint(tmp_path, capsys, monkeypatch):
    from humal_nb.publication import tables as tables_module

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables_module, "write_tables", broken)
    code, _, err = _cli(["tables", str(RECORDS / "shortcut_pilot")], capsys)
    assert code == 2 and "No space left on device" in err and "hint: " in err and "--debug" in err
    assert err.count("\n") == 2 and "Traceback" not in err


def test_a_yaml_number_read_as_text_says_how_to_write_it(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_text("learning_rate: 1e-2\n")
    code, _, err = _cli(["run", str(params), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "'learning_rate'" in err and "write 0.01" in err and "p.yaml" in err
    assert not (tmp_path / "out").exists()
