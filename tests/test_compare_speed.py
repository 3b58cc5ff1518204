"""The explorer's report in a minute: the inference precision's options, `humal-nb bench --compare`
and its per-stage timings."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import TINY_PAIR

from humal_nb.analyses import compare
from humal_nb.bench import compare as bench_compare
from humal_nb.cli import commands as cli
from humal_nb.core.names import COMPARE_NOTEBOOK_FILE, FAITHFULNESS_CACHE_FILE, READINGS_CACHE_FILE
from humal_nb.experiments import export
from humal_nb.method import inference


def _help(command: str) -> str:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict)).choices[command]
    return " ".join(sub.format_help().split())


@pytest.mark.parametrize("command", ["compare", "predict", "bench"])
def test_precision_option_shows_its_default_and_refuses_a_bad_value(command, capsys):
    text = _help(command)
    assert re.search(r"--precision \{auto,fp32,bf16\} .*native bf16.* \(default: auto\)", text)
    argv = {"compare": ["compare", "RUN"], "predict": ["predict", "RUN", "T.csv", "--out", "p.csv"],
            "bench": ["bench", "--compare"]}[command]
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--precision", "fp16"])
    assert exit_.value.code == 2
    assert "argument --precision: invalid choice: 'fp16' (choose from 'auto', 'fp32', 'bf16')" in capsys.readouterr().err


def test_compare_hands_its_precision_to_the_notebook(monkeypatch, tmp_path, capsys):
    seen = {}
    monkeypatch.setattr(compare, "resolve_runs", lambda baseline, run: (tmp_path / "b", tmp_path / "h"))
    monkeypatch.setattr(compare, "compare_report",
                        lambda out, parameters, progress: seen.update(parameters) or tmp_path / "r.html")
    assert cli.main(["compare", "RUN"]) == 0 and seen["precision"] == "auto"
    assert cli.main(["compare", "RUN", "--precision", "fp32"]) == 0 and seen["precision"] == "fp32"
    monkeypatch.setattr(inference, "cpu_has_bf16", lambda: False)
    seen.clear()
    assert cli.main(["compare", "RUN", "--precision", "bf16"]) == (2 if not inference.torch.cuda.is_available() else 0)
    if not inference.torch.cuda.is_available():  # refused before any kernel starts
        assert seen == {} and "no native bf16" in capsys.readouterr().err


def test_predict_hands_its_precision_on(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(export, "predict_texts", lambda *args, **kwargs: seen.update(kwargs) or tmp_path / "p.csv")
    assert cli.main(["predict", "RUN", "T.csv", "--out", "p.csv"]) == 0 and seen["precision"] == "auto"
    assert cli.main(["predict", "RUN", "T.csv", "--out", "p.csv", "--precision", "fp32"]) == 0
    assert seen["precision"] == "fp32"


def test_predict_texts_refuses_an_unknown_precision_before_reading_anything(tmp_path):
    from humal_nb.core.errors import ParameterError

    with pytest.raises(ParameterError, match="precision 'half' is unknown; valid values: auto, fp32, bf16"):
        export.predict_texts(tmp_path / "no_run", tmp_path / "no_texts.csv", tmp_path / "p.csv", precision="half")


def test_bench_compare_takes_its_options_and_refuses_a_second_mode(monkeypatch, tmp_path, capsys):
    seen = {}
    monkeypatch.setattr(bench_compare, "run_compare_bench", lambda **kwargs: seen.update(kwargs))
    assert cli.main(["bench", "--compare"]) == 0
    assert seen == {"out_dir": None, "precision": "auto"}
    assert cli.main(["bench", "--compare", "--out", str(tmp_path), "--precision", "fp32"]) == 0
    assert seen == {"out_dir": str(tmp_path), "precision": "fp32"}
    assert cli.main(["bench", "--compare", "--grid"]) == 2
    assert "choose one of --grid, --compare and --families, not --grid and --compare" in capsys.readouterr().err
    assert "(default outputs/bench_compare)" in _help("bench")


def test_stages_are_read_from_papermills_cell_timings(tmp_path):
    nb = nbformat.v4.new_notebook()
    sources = ["x = 1", "comparison = compare.load_comparison(a, b)", "faith = compare.faithfulness(comparison)",
               "display(HTML(views.rollout_html(comparison)))", "print(2)"]
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    for cell, seconds in zip(nb.cells[1:], (0.5, 2.0, 30.0, 4.0, 0.25)):
        cell.metadata["papermill"] = {"duration": seconds}
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, str(path))
    stages = bench_compare.stage_seconds(path)
    assert stages["faithfulness"] == 30.0 and stages["rollout"] == 4.0 and stages["imports, load runs"] == 2.0
    assert stages[bench_compare.OTHER_CELLS] == 0.75 and stages["bertviz view"] == 0.0
    results = {phase: {"seconds": total, "stages": {**stages, bench_compare.REST: 1.0}}
               for phase, total in (("cold", 38.5), ("warm", 9.25))}
    lines = bench_compare.report_lines(results, {"data_size": 250}, "auto")
    assert lines[-1] == "compare_cold_seconds=38.50" and lines[-2] == "compare_warm_seconds=9.25"
    assert any(line.startswith("faithfulness") and "30.0" in line for line in lines)


@pytest.mark.slow
def test_bench_compare_times_a_cold_and_a_warm_report(minilm_pair, capsys):
    """On the session's tiny pair (the bench's pair settings overridden to it, so it is reused):
    the caches are removed, the cold report writes them, the warm one reads them."""
    baseline, humal = minilm_pair
    for folder in (baseline, humal):
        (folder / FAITHFULNESS_CACHE_FILE).write_text("{}")  # stale: removed before the cold report
    result = bench_compare.run_compare_bench(out_dir=humal.parent, precision="fp32", pair=dict(TINY_PAIR))
    out = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"compare_cold_seconds=\d+\.\d\d", out[-1])
    assert result["cold"]["seconds"] > 0 and set(result["warm"]["stages"]) == set(result["cold"]["stages"])
    assert result["cold"]["stages"]["faithfulness"] > result["warm"]["stages"]["faithfulness"]
    for folder in (baseline, humal):
        assert (folder / FAITHFULNESS_CACHE_FILE).stat().st_size > 100 and (folder / READINGS_CACHE_FILE).is_file()
    assert not (Path(humal) / COMPARE_NOTEBOOK_FILE).exists()  # the reports went to a scratch folder
