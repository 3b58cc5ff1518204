"""humal_nb.experiments.report, plots and notebooks.export_html on hand-made runs (no training)."""

from __future__ import annotations

import math

import nbformat
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from humal_nb.config import runs
from humal_nb.config.run_config import RunConfig
from humal_nb.experiments import grid, report
from humal_nb.experiments.notebooks import export_html, inline_plotly, remote_scripts
from humal_nb.publication import plots

XSS = "<script>alert(1)</script>"


def fake_metrics(config: RunConfig, auc: float) -> dict:
    """A metrics.json as train.run_experiment writes it, with made-up numbers."""
    return {
        "strategy": config.strategy, "model": config.model, "data_size": config.data_size,
        "imbalance_ratio": config.imbalance_ratio, "minority_label": config.minority_label,
        "length_group": config.length_group, "bootstrap": config.bootstrap, "seed": config.seed,
        "auc": auc, "accuracy": auc - 0.1, "f1": auc - 0.2, "n_train": config.data_size,
        "n_train_minority": 5, "n_test": config.n_test, "epochs": config.epochs, "alpha": config.alpha,
        "train_seconds": 1.5,
        "history": [{"epoch": 1, "ce_loss": 0.6, "attention_loss": 0.5 if config.strategy == "al" else None}],
        "attention": {"cosine_to_human": 0.3 if config.strategy == "baseline" else 0.5,
                      "high_attention_rate": 0.05, "human_high_attention_rate": 0.2},
        "parameters": config.to_dict(),
    }


GRID = {
    "name": "fake",
    "bootstraps": 3,
    "vary": {"data_size": [100, 200, 300], "imbalance_ratio": [0.05, 0.5], "strategy": ["baseline", "al"]},
}


def _auc(config: RunConfig) -> float:
    base = 0.6 + config.data_size / 2000 + (0.2 if config.imbalance_ratio == 0.5 else 0.0)
    if config.strategy == "al":  # better by 0.07, 0.09, 0.11 over bootstraps 0, 1, 2
        return min(base + 0.07 + 0.02 * config.bootstrap, 0.99)
    return base + 0.01 * config.bootstrap


@pytest.fixture()
def fake_grid(tmp_path):
    """A grid folder: finished cells, a not-enough-data size, a failed, a half-written and a missing cell."""
    g = grid.load_grid(GRID)
    grid.write_manifest(g, tmp_path, "fake.yaml")
    for name, config in zip(g.cell_names(), g.cells):
        cell = tmp_path / name
        if config.data_size == 300 and config.imbalance_ratio == 0.05:
            runs.write_json(cell / runs.ERROR_FILE, grid.error_record(
                "not_enough_data", config, "not enough data for cell (data_size=300): <needs> more"))
        elif name == "al_n200_r0.5_b2":
            runs.write_json(cell / runs.ERROR_FILE, grid.error_record(
                "failed", config, f"ModelError: broken {XSS}", tb="Traceback...\nModelError"))
        elif name == "al_n100_r0.5_b1":
            runs.write_json(cell / runs.ATTENTION_FILE, {"reviews": []})  # killed before metrics.json
        elif name == "baseline_n100_r0.5_b2":
            continue  # never started
        elif name == "baseline_n100_r0.5_b1":
            cell.mkdir()  # a folder the grid made, not run yet
        else:
            runs.write_json(cell / runs.METRICS_FILE, fake_metrics(config, _auc(config)))
    return tmp_path


def test_collect_reads_each_cell_status(fake_grid):
    summary = report.collect(fake_grid)
    assert len(summary) == 36
    assert list(summary.columns[:5]) == ["cell", "strategy", "data_size", "imbalance_ratio", "bootstrap"]
    for column in ("status", "auc", "accuracy", "f1", "cosine_to_human", "high_attention_rate",
                   "train_seconds", "error"):
        assert column in summary.columns
    status = summary.set_index("cell")["status"]
    assert status["al_n100_r0.05_b0"] == "finished"
    assert status["al_n300_r0.05_b0"] == "not_enough_data"
    assert status["al_n200_r0.5_b2"] == "failed"
    assert status["al_n100_r0.5_b1"] == "incomplete"
    assert status["baseline_n100_r0.5_b2"] == "pending"
    assert status["baseline_n100_r0.5_b1"] == "pending"
    assert pd.isna(summary.set_index("cell").loc["al_n100_r0.5_b1", "auc"])  # half-written: never read
    counts = report.status_counts(summary).set_index("status")["cells"]
    assert counts["finished"] == 36 - 6 - 4 and counts["not_enough_data"] == 6


def test_write_summary_is_the_table_input(fake_grid):
    path = report.write_summary(fake_grid)
    assert path.name == "summary.csv" and not list(fake_grid.glob(".summary.csv.*"))
    summary = report.read_summary(fake_grid)
    assert len(summary) == 36
    from humal_nb.measures.stats import auc_table

    table = auc_table(summary).table
    assert table.loc[(300, "HuMAL-AL"), "5%"] == "not enough data"
    assert table.loc[(100, "HuMAL-AL"), "5%"].startswith("0.74* (0.02) p=")
    unfinished = report.unfinished_cells(summary)
    assert list(unfinished.status[:3]) == ["failed", "incomplete", "pending"]
    assert XSS in unfinished.loc[0, "error"]
    assert "&lt;script&gt;" in unfinished.to_html()  # pandas escapes the error text


def test_folders_without_grid_json_still_pair_bootstraps(fake_grid):
    """Run folders gathered by hand: each metrics.json names its own out_dir, which is no axis."""
    (fake_grid / "grid.json").unlink()
    for metrics_path in fake_grid.glob("*/metrics.json"):
        metrics = runs.read_json(metrics_path)
        metrics["parameters"]["out_dir"] = str(metrics_path.parent)
        runs.write_json(metrics_path, metrics)
    summary = report.collect(fake_grid)
    assert "out_dir" not in summary.columns
    from humal_nb.measures.stats import auc_table

    assert auc_table(summary).table.loc[(100, "HuMAL-AL"), "5%"].startswith("0.74* (0.02) p=")


def test_attention_table_and_sizes_per_ratio(fake_grid):
    summary = report.collect(fake_grid)
    table = report.attention_table(summary)
    assert list(table["strategy"].unique()) == ["Baseline", "HuMAL-AL"]
    assert "data size" in table.columns  # sizes are rows of their own, never pooled
    row = table[(table["strategy"] == "HuMAL-AL") & (table["cosine to human @ 5%"] != "")].iloc[0]
    assert row["cosine to human @ 5%"] == "0.50 (0.00)"
    assert any(c.startswith("high-attention rate (%)") for c in table.columns)
    assert report.sizes_per_ratio(summary) == [0.5]  # 300 at 5 % could not be filled
    assert report.sizes_per_ratio(summary, minimum=2) == [0.05, 0.5]


def test_split_by_length():
    frame = pd.DataFrame({"length_group": ["", "yelp50", ""], "auc": [1, 2, 3]})
    whole, by_length = report.split_by_length(frame)
    assert list(whole.auc) == [1, 3] and list(by_length.auc) == [2]
    whole, by_length = report.split_by_length(frame.drop(columns="length_group"))
    assert len(whole) == 3 and by_length.empty


def test_metrics_table_with_baseline_difference():
    al = fake_metrics(RunConfig(strategy="al"), 0.9)
    base = fake_metrics(RunConfig(strategy="baseline"), 0.8)
    table = report.metrics_table(al, base)
    assert list(table.index) == ["Baseline", "HuMAL-AL", "HuMAL-AL - Baseline"]
    assert table.loc["HuMAL-AL - Baseline", "AUC"] == pytest.approx(0.1)
    assert table.loc["HuMAL-AL - Baseline", "cosine to human"] == pytest.approx(0.2)
    assert list(report.metrics_table(al).index) == ["HuMAL-AL"]


def test_run_header_escapes():
    text = report.run_header_html(RunConfig(model="/tmp/<b>model</b>", data_file="/x/<i>.jsonl"))
    assert "<b>" not in text and "&lt;b&gt;model" in text


# ---------------------------------------------------------------------- figures
def test_review_heatmap_escapes_review_text():
    words = ["Great", XSS, "&", '"quoted"']
    block = plots.review_heatmap_html(words, {"human": [0.5, 0.5, 0, 0], "HuMAL-AL": [0.1, 0.2, 0.3, 0.4]},
                                      title=f"review {XSS}")
    assert XSS not in block and "<script" not in block
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in block and "&amp;" in block and '>"quoted"<' in block
    assert block.count("<span title=") == 8
    # one colour scale for the review: the largest value of all rows (human's 0.5) is the darkest,
    # white blended 85 % toward (8, 81, 156); HuMAL's 0.4 is 0.8 of it (68 %)
    assert block.count("background:rgb(45,107,171)") == 2 and "background:rgb(87,137,188)" in block
    assert block.count("background:rgb(255,255,255)") == 2  # the zeros
    with pytest.raises(ValueError):
        plots.review_heatmap_html(["a", "b"], {"human": [1.0]})


def test_review_examples_pairs_baseline_by_review_id():
    rec = {"review_id": "r1", "label": 1, "prob": 0.9, "words": ["good", XSS], "human": [1, 0], "machine": [0.4, 0.6]}
    base = {**rec, "prob": 0.4, "machine": [0.9, 0.1]}
    blocks = plots.review_examples([rec, {**rec, "review_id": "r2"}], [base], n=1, strategy="al")
    assert len(blocks) == 1 and "Baseline P(1) = 0.40" in blocks[0] and XSS not in blocks[0]
    assert len(plots.review_examples([rec], None, n=5)) == 1


def test_figures_are_built_from_plain_frames(fake_grid):
    from humal_nb.measures.stats import auc_table, smoothed_auc

    summary = report.collect(fake_grid)
    fig = plots.auc_vs_ratio(auc_table(summary).long)
    assert len(fig.data) == 6  # 3 sizes x 2 strategies
    one_ratio = auc_table(summary[summary.imbalance_ratio == summary.imbalance_ratio.max()]).long
    fig = plots.auc_vs_ratio(one_ratio)  # a grid of one ratio: one category tick, not a numeric axis
    assert fig.layout.xaxis.type == "category" and list(fig.layout.xaxis.categoryarray) == [fig.data[0].x[0]]
    assert fig.data[0].x[0].endswith("%")
    fig = plots.auc_vs_size(smoothed_auc(summary, 0.5), ratio=0.5)
    assert {t.name for t in fig.data} == {"Baseline mean", "Baseline lowess", "HuMAL-AL mean", "HuMAL-AL lowess"}
    fig = plots.loss_curves([{"epoch": 1, "ce_loss": 0.7, "attention_loss": 0.4},
                             {"epoch": 2, "ce_loss": 0.5, "attention_loss": 0.3}],
                            [{"epoch": 1, "ce_loss": 0.6, "attention_loss": None}])
    assert [t.name for t in fig.data] == ["HuMAL-AL CE", "Baseline CE", "HuMAL-AL attention loss"]
    empty = plots.auc_vs_ratio(auc_table(summary).long.assign(mean_auc=np.nan))
    assert not empty.data


# ---------------------------------------------------------------------- HTML export
def _notebook_with_figures(n_figures: int) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for i in range(n_figures):
        fig = go.Figure(go.Bar(x=[XSS, "b"], y=[1, i]))
        cell = nbformat.v4.new_code_cell("fig")
        cell.outputs = [nbformat.v4.new_output(
            "display_data", data={"application/vnd.plotly.v1+json": fig.to_plotly_json(), "text/plain": "Figure"})]
        nb.cells.append(cell)
    cell = nbformat.v4.new_code_cell("heatmap")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": plots.review_heatmap_html(["x", XSS], {"human": [1, 0]})})]
    nb.cells.append(cell)
    return nb


def test_inline_plotly_inlines_plotly_js_once():
    nb = inline_plotly(_notebook_with_figures(2))
    htmls = [c.outputs[0].data["text/html"] for c in nb.cells]
    assert len(htmls[0]) > 1_000_000 and len(htmls[1]) < 100_000  # plotly.js only in the first figure
    assert all("application/vnd.plotly.v1+json" not in c.outputs[0].data for c in nb.cells)
    assert XSS not in htmls[0]  # plotly's JSON escapes "<"


def test_export_html_is_self_contained_and_escaped(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook_with_figures(2), path)
    html_path = export_html(path, tmp_path / "out.html")
    text = html_path.read_text()
    assert remote_scripts(text) == []
    assert "require.min.js" not in text and "mathjax" not in text.lower().split("plotly")[0]
    assert text.count("Plotly.newPlot") == 2 and text.count('class="plotly-graph-div"') == 2
    assert XSS not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert ">fig<" not in text  # code hidden by default
    assert "fig" in export_html(path, tmp_path / "code.html", show_code=True).read_text()


def test_remote_scripts_finds_cdn_scripts():
    page = '<script src="https://cdn.x/a.js"></script><script src=\'http://y/b.js\'></script><script>1</script>'
    assert remote_scripts(page) == ["https://cdn.x/a.js", "http://y/b.js"]


@pytest.mark.slow
def test_build_report_executes_the_grid_notebook(fake_grid):
    path = report.build_report(fake_grid)
    assert path == fake_grid / "report.html" and (fake_grid / "grid_report.ipynb").is_file()
    text = path.read_text()
    assert remote_scripts(text) == []
    assert "not enough data" in text and "HuMAL-AL" in text
    assert "Plotly.newPlot" in text  # Fig. 3 and Fig. 4
    assert XSS not in text and "ModelError: broken &lt;script&gt;" in text
    assert "0.74* (0.02) p=" in text
    executed = nbformat.read(fake_grid / "grid_report.ipynb", as_version=4)
    assert not any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    assert math.isfinite(report.read_summary(fake_grid).auc.max())


def test_metrics_view_blanks_what_does_not_apply():
    al = {"strategy": "al", "auc": 0.91, "accuracy": 0.5, "f1": 0.0, "train_seconds": 107.79, "n_train": 250,
          "n_test": 200, "attention": {"cosine_to_human": 0.62, "high_attention_rate": 0.1}}
    base = {**al, "strategy": "baseline", "auc": 0.9, "attention": {"cosine_to_human": 0.35}}
    html = report.metrics_view(al, base).to_html()
    assert ">108<" in html and ">0.620<" in html and ">0.010<" in html
    assert "nan" not in html.lower() and "&lt;NA&gt;" not in html


def test_report_refuses_a_run_folder_and_an_empty_one(tmp_path):
    from humal_nb.core.errors import ParameterError

    run = tmp_path / "run"
    config = RunConfig()
    runs.write_json(run / runs.METRICS_FILE, fake_metrics(config, 0.8))
    (run / "report.html").write_text("the run's own report")
    with pytest.raises(ParameterError, match="is one run, not a grid.*humal-nb compare"):
        report.build_report(run)
    assert (run / "report.html").read_text() == "the run's own report"  # untouched
    assert sorted(p.name for p in run.iterdir()) == ["metrics.json", "report.html"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="holds no grid cells"):
        report.build_report(tmp_path / "empty")
