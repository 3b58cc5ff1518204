"""humal-nb run end to end: papermill executes the training notebook on real Yelp-HAT with the
default model, the HTML report is self-contained, data-set text is escaped, failures are clear."""

from __future__ import annotations

import json
import math
import shutil

import nbformat
import pytest

from humal_nb.cli import commands as cli
from humal_nb.config import runs
from humal_nb.core.errors import NotebookError
from humal_nb.experiments import job, notebooks

pytestmark = pytest.mark.slow

TINY = "data_size: 24\nimbalance_ratio: 0.25\nn_test: 20\nepochs: 1\nbatch_size: 8\nmax_length: 64\n"
XSS = "<script>alert(1)</script>"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


@pytest.fixture(scope="module")
def yelp_run(tmp_path_factory, yelp_dir):
    """One real run through the command line: HuMAL-AL, default model, real Yelp-HAT."""
    tmp = tmp_path_factory.mktemp("run")
    params = tmp / "tiny.yaml"
    params.write_text(TINY + "strategy: al\ncompare_baseline: false\nsave_model: false\nn_examples: 2\n")
    out = tmp / "out"
    assert cli.main(["run", str(params), "--out", str(out)]) == 0
    return out


def test_run_writes_metrics(yelp_run):
    assert runs.is_complete(yelp_run)
    metrics = runs.read_metrics(yelp_run)
    for key in runs.REQUIRED_METRICS:
        assert key in metrics, key
    for key in ("auc", "accuracy", "f1", "alpha", "train_seconds"):
        assert _finite(metrics[key]), key
    assert metrics["strategy"] == "al" and metrics["n_train"] == 24 and metrics["n_test"] == 20
    assert metrics["model"] == "all-MiniLM-L6-v2" and metrics["epochs"] == 1
    assert len(metrics["history"]) == 1 and _finite(metrics["history"][0]["attention_loss"])
    for key in ("cosine_to_human", "high_attention_rate"):
        assert _finite(metrics["attention"][key])
    assert metrics["parameters"]["out_dir"] == "."  # the run folder itself: no machine path
    assert not (yelp_run / "baseline").exists() and not (yelp_run / "model").exists()


def test_executed_notebook_has_the_parameters_and_no_error(yelp_run):
    nb = nbformat.read(yelp_run / "train_strategy.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "data_size = 24" in injected[0].source
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)  # Fig. 5


def test_report_is_self_contained_and_shows_the_metrics(yelp_run):
    html = (yelp_run / "report.html").read_text()
    metrics = runs.read_metrics(yelp_run)
    assert notebooks.remote_scripts(html) == []
    assert "require.min.js" not in html
    assert html.count("Plotly.newPlot") == 1 and html.count("* plotly.js v") == 1  # the library, inlined once
    assert f"AUC {metrics['auc']:.3f}" in html
    assert f"cosine to human {metrics['attention']['cosine_to_human']:.3f}" in html
    assert "Loss per epoch" in html and "high-attention rate" in html
    assert html.count('class="humal-heatmap"') == 2
    assert "train_with_baseline" not in html  # code hidden


def _xss_data(path):
    """A generic JSONL file: every text carries a script tag as one of its words."""
    rows = []
    for i in range(40):
        label = i % 2
        words = ["great" if label else "awful", "food", XSS, "and", "&amp;", "service", f"#{i}"]
        rows.append({"text_id": f"t{i}", "text": " ".join(words), "label": label, "highlights": [0, 2]})
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_review_markup_renders_as_text(tmp_path):
    data = tmp_path / "xss.jsonl"
    _xss_data(data)
    params = tmp_path / "xss.yaml"
    params.write_text(
        f"data_file: {data}\ndata_size: 10\nimbalance_ratio: 0.5\nn_test: 20\nepochs: 1\nmax_length: 32\n"
        "save_model: false\nn_examples: 20\n"
    )
    out = job.run_job(params, out_dir=tmp_path / "out", progress=False)
    html = (out / "report.html").read_text()
    assert html.count('class="humal-heatmap"') == 20
    assert XSS not in html and "alert(1)</script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 20
    assert "&amp;amp;" in html  # the text "&amp;" shows as typed


def test_failing_notebook_names_the_cell_and_keeps_nothing_stale(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("an unfinished attempt's report")  # no metrics.json: not a finished run
    params = tmp_path / "broken.yaml"
    params.write_text(TINY + f"data_file: {tmp_path / 'missing.jsonl'}\n")
    with pytest.raises(NotebookError) as info:
        job.run_job(params, out_dir=out, progress=False)
    message = str(info.value)
    assert "failed in cell" in message and "DataNotFoundError" in message and "missing.jsonl" in message
    assert str(out / "train_strategy.ipynb") in message and (out / "train_strategy.ipynb").is_file()
    assert not (out / "metrics.json").exists() and not runs.is_complete(out)
    assert not (out / "report.html").exists()


def test_a_failing_run_keeps_the_finished_run_it_would_replace(yelp_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(yelp_run, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    params = tmp_path / "broken.yaml"
    params.write_text(TINY + f"data_file: {tmp_path / 'missing.jsonl'}\n")
    with pytest.raises(NotebookError) as info:
        job.run_job(params, out_dir=out, progress=False)
    message = str(info.value)
    failed = out / runs.FAILED_NOTEBOOK
    assert "DataNotFoundError" in message and str(failed) in message and "is kept as it was" in message
    assert failed.is_file() and info.value.notebook_path == failed
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p != failed} == before
    assert runs.is_complete(out) and not (out / runs.PREVIOUS_RUN_DIR).exists()


def test_an_unknown_model_is_refused_before_the_folder_is_touched(yelp_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(yelp_run, out)
    before = sorted(p.name for p in out.iterdir())
    params = tmp_path / "model.yaml"
    params.write_text(TINY + "model: no-such-org/no-such-model\n")
    assert cli.main(["run", str(params), "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == before and runs.is_complete(out)


def test_a_run_set_aside_by_a_killed_attempt_is_put_back(yelp_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(yelp_run, out / runs.PREVIOUS_RUN_DIR)  # the attempt was killed mid-run:
    (out / runs.PREVIOUS_RUN_DIR / runs.SET_ASIDE_DONE).touch()
    (out / "train_strategy.ipynb").write_text("{}")  # its partial notebook, no metrics.json
    (out / "report.html").write_text("<partial>")  # a name the finished run lacks
    assert runs.set_aside_finished_run(out) == out / runs.PREVIOUS_RUN_DIR  # restored, then set aside again
    assert runs.is_complete(out / runs.PREVIOUS_RUN_DIR) and not (out / "train_strategy.ipynb").exists()
    assert not (out / "report.html").exists() or (out / "report.html").read_text() != "<partial>"
    runs.restore_finished_run(out, out / runs.PREVIOUS_RUN_DIR)
    assert runs.is_complete(out) and not (out / runs.PREVIOUS_RUN_DIR).exists()


def test_a_set_aside_killed_half_way_loses_nothing(yelp_run, tmp_path):
    """Killed while moving the finished run aside: metrics.json had gone, the rest had not."""
    out = tmp_path / "out"
    shutil.copytree(yelp_run, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    kept = out / runs.PREVIOUS_RUN_DIR
    kept.mkdir()
    (out / runs.METRICS_FILE).replace(kept / runs.METRICS_FILE)
    assert runs.set_aside_finished_run(out) == kept  # put back whole, then set aside again
    runs.restore_finished_run(out, kept)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_restore_killed_half_way_loses_nothing(yelp_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(yelp_run, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    kept = runs.set_aside_finished_run(out)
    (out / "train_strategy.ipynb").write_text("{}")  # the failed attempt's notebook
    runs.clear_run_dir(out)  # the restore had begun: folder cleared, marker gone, one file back
    (kept / runs.SET_ASIDE_DONE).unlink()
    (kept / runs.ATTENTION_FILE).replace(out / runs.ATTENTION_FILE)
    assert runs.set_aside_finished_run(out) == kept
    runs.restore_finished_run(out, kept)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_finished_rerun_keeps_the_baselines_compare_caches(tmp_path):
    """The previous baseline's caches move into the new baseline/ (keyed by the weights, so a
    changed model does not read them); a cache the new run already wrote is not replaced."""
    out = tmp_path / "out"
    kept = out / runs.PREVIOUS_RUN_DIR
    (kept / runs.BASELINE_DIR).mkdir(parents=True)
    (out / runs.BASELINE_DIR).mkdir()
    for name in runs.CACHE_FILES:
        (kept / runs.BASELINE_DIR / name).write_text(f"old {name}")
    (out / runs.BASELINE_DIR / runs.READINGS_CACHE_FILE).write_text("new")
    runs.drop_set_aside(out, kept)
    assert not kept.exists()
    assert (out / runs.BASELINE_DIR / runs.FAITHFULNESS_CACHE_FILE).read_text() == "old faithfulness_cache.json"
    assert (out / runs.BASELINE_DIR / runs.BERTVIZ_CACHE_FILE).read_text() == "old bertviz_cache.json"
    assert (out / runs.BASELINE_DIR / runs.READINGS_CACHE_FILE).read_text() == "new"
    lone = tmp_path / "lone"  # no baseline in the new run: nothing to carry, the set-aside still goes
    (lone / runs.PREVIOUS_RUN_DIR / runs.BASELINE_DIR).mkdir(parents=True)
    runs.drop_set_aside(lone, lone / runs.PREVIOUS_RUN_DIR)
    assert list(lone.iterdir()) == []
