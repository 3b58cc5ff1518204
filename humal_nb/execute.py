"""Execute notebooks with papermill and export them as self-contained HTML reports.

`run_job(params.yaml)` is `humal-nb run`: the parameters are validated (refused before
anything runs, naming the key), `notebooks/train_strategy.ipynb` is executed with the
full validated parameter set into the run folder (default `outputs/<yaml stem>/`), and
the executed notebook is exported to `report.html`. A run folder holds `metrics.json`
only when the notebook ran to its end: its last cell saves the run, and `train.save_run`
writes `metrics.json` last, atomically.

`export_html` is shared by every notebook: plotly figures (stored as plotly JSON by the
notebooks) become HTML with plotly.js inlined once, and the page loads no remote script,
so a report opens offline.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from humal_nb import runs
from humal_nb.config import RunConfig, load_run_config
from humal_nb.errors import NotebookError
from humal_nb.names import BASELINE_DIR, EXECUTED_NOTEBOOK, REPORT_FILE
from humal_nb.paths import REPO_ROOT, outputs_dir

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
TRAIN_NOTEBOOK = NOTEBOOKS_DIR / "train_strategy.ipynb"
KERNEL_NAME = "python3"
# the kernel's own log lines would print once per notebook ("running over TCP without
# encryption": it listens on localhost only; "KeyboardInterrupt caught in kernel": the
# manager interrupts it on shutdown); a failing cell or a dead kernel still raises
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
# JupyterLab's page without its remote scripts (require.js, MathJax, Mermaid from CDNs)
REPORT_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
PLOTLY_MIME = "application/vnd.plotly.v1+json"

# what a run writes into its folder; cleared before a run so no stale metrics.json survives
# what a run (and `humal-nb compare` on it) writes: cleared before a new run in the same folder
RUN_OUTPUTS = (runs.METRICS_FILE, runs.ATTENTION_FILE, runs.ERROR_FILE, runs.MODEL_DIR, BASELINE_DIR,
               EXECUTED_NOTEBOOK, REPORT_FILE, runs.COMPARE_NOTEBOOK_FILE, runs.COMPARE_REPORT_FILE)


# ---------------------------------------------------------------------- humal-nb run
def run_job(
    params_path: str | Path,
    overrides: list[str] | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Validate a parameter file, execute the training notebook, export `report.html`.

    The output folder is `out_dir`, else the file's `out_dir`, else `outputs/<yaml stem>`.
    Returns the run folder; prints where the report is. Raises `ParameterError` or
    `ModelError` before anything runs, and `NotebookError` (naming the failed cell and the partial notebook)
    when the notebook fails.
    """
    from humal_nb.models import check_model

    config = load_run_config(params_path, overrides)
    check_model(config.model, config.max_length)  # offline, readable attention, before any kernel starts
    out = Path(out_dir or config.out_dir or outputs_dir() / Path(params_path).stem)
    with _terminal_progress(progress):  # the kernel's training bar replaces papermill's cell bar
        run_dir = run_notebook(config, out, progress=False, html=True)
    if progress:
        print(summarize_run(run_dir))
    print(f"report: {run_dir / REPORT_FILE}")
    return run_dir


@contextmanager
def _terminal_progress(on: bool) -> Iterator[None]:
    """Within it, a notebook's kernel shows training progress on this command's terminal."""
    from humal_nb.train import PROGRESS_VARIABLE

    before = os.environ.get(PROGRESS_VARIABLE)
    if on:
        os.environ[PROGRESS_VARIABLE] = "terminal"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PROGRESS_VARIABLE, None)
        else:
            os.environ[PROGRESS_VARIABLE] = before


def run_notebook(
    config: RunConfig,
    out_dir: str | Path,
    progress: bool = False,
    html: bool = True,
    show_code: bool = False,
) -> Path:
    """Execute `train_strategy.ipynb` for one validated config into `out_dir`.

    Relative paths (data, model folder) are made absolute first. A finished run already in
    the folder is moved aside (`.previous_run/`) and put back if this run fails or is
    interrupted, so a bad run never costs a good one; the failed notebook is then kept as
    `train_strategy.failed.ipynb`. Otherwise the folder's previous outputs are removed.
    The executed notebook is written to `out_dir/train_strategy.ipynb` and, with `html`,
    exported to `out_dir/report.html`.
    """
    out = Path(out_dir).expanduser().resolve()
    config = absolute_paths(config).replace(out_dir=str(out))
    out.mkdir(parents=True, exist_ok=True)
    kept = _set_aside_finished_run(out)
    try:
        notebook = execute_notebook(TRAIN_NOTEBOOK, out / EXECUTED_NOTEBOOK, config.to_dict(), progress=progress)
    except BaseException as exc:
        if kept is None:
            raise
        failed = _restore_finished_run(out, kept)
        if isinstance(exc, NotebookError):
            raise _moved(exc, failed, out) from None
        raise
    if kept is not None:
        shutil.rmtree(kept)
    if html:
        export_html(notebook, out / REPORT_FILE, title=f"HuMAL run: {config.strategy}, {out.name}")
    return out


def absolute_paths(config: RunConfig) -> RunConfig:
    """The config with `data_dir`, `data_file` and a local `model` folder as absolute paths,
    so the notebook's kernel (started in another folder) finds them."""
    changes: dict[str, Any] = {}
    for key in ("data_dir", "data_file"):
        value = getattr(config, key)
        if value:
            changes[key] = str(Path(value).expanduser().resolve())
    if Path(config.model).expanduser().is_dir():
        changes["model"] = str(Path(config.model).expanduser().resolve())
    return config.replace(**changes) if changes else config


def clear_run_dir(run_dir: str | Path) -> None:
    """Remove a run folder's previous outputs, `metrics.json` first (only humal_nb's own files)."""
    run_dir = Path(run_dir)
    for name in RUN_OUTPUTS:
        path = run_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


PREVIOUS_RUN = ".previous_run"
FAILED_NOTEBOOK = "train_strategy.failed.ipynb"


SET_ASIDE_DONE = ".complete"  # in .previous_run/: every output of the finished run is in there


def _set_aside_finished_run(out: Path) -> Path | None:
    """Move a finished run's outputs into `out/.previous_run/` (None when there is none);
    clear whatever else a run writes. A set-aside left by a killed attempt is put back first.

    Every step can be killed without losing the finished run: `metrics.json` leaves the folder
    first and comes back last (so the folder never looks finished while parts are elsewhere),
    and `.previous_run/.complete` says whether the set-aside had ended (then the folder holds
    only the killed attempt's files, which are cleared) or not (then the folder still holds the
    rest of the finished run, which stays)."""
    kept = out / PREVIOUS_RUN
    if kept.is_dir():
        if runs.is_complete(out):
            shutil.rmtree(kept)  # the attempt had finished: its run stands
        else:
            if (kept / SET_ASIDE_DONE).exists():
                clear_run_dir(out)  # the killed attempt's partial outputs
                (kept / SET_ASIDE_DONE).unlink()
            _move_outputs(kept, out)
            shutil.rmtree(kept)
    if not runs.is_complete(out):
        clear_run_dir(out)
        return None
    kept.mkdir()
    _move_outputs(out, kept)
    (kept / SET_ASIDE_DONE).touch()
    return kept


def _restore_finished_run(out: Path, kept: Path) -> Path | None:
    """Put a set-aside run back after a failed attempt; the failed notebook, if any, is
    renamed to `train_strategy.failed.ipynb` and returned."""
    failed = None
    partial = out / EXECUTED_NOTEBOOK
    if partial.is_file():
        failed = out / FAILED_NOTEBOOK
        partial.replace(failed)
    clear_run_dir(out)
    (kept / SET_ASIDE_DONE).unlink(missing_ok=True)  # from here on the folder holds only restored files
    _move_outputs(kept, out)
    shutil.rmtree(kept)
    return failed


def _move_outputs(src: Path, dst: Path) -> None:
    """Move a run's outputs; `metrics.json` first out of a folder and last into one. What is
    already in `dst` under the same name is replaced."""
    names = [n for n in RUN_OUTPUTS if n != runs.METRICS_FILE]
    order = [runs.METRICS_FILE, *names] if dst.name == PREVIOUS_RUN else [*names, runs.METRICS_FILE]
    for name in order:
        source, target = src / name, dst / name
        if source.exists() or source.is_symlink():
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            source.replace(target)


def _moved(exc: NotebookError, failed: Path | None, out: Path) -> NotebookError:
    """The same error, pointing at the renamed failed notebook, saying the old run is kept."""
    message = re.sub(r"\s*The partial notebook.*$", "", str(exc), flags=re.S)
    where = f" The failed notebook is at {failed}." if failed else ""
    return NotebookError(f"{message}{where} The finished run that was in {out} is kept as it was.",
                         exc.ename, exc.evalue, exc.cell_index, failed, exc.traceback_text)


def summarize_run(run_dir: str | Path) -> str:
    """One line per model of a finished run folder (its baseline first)."""
    run_dir = Path(run_dir)
    folders = [f for f in (run_dir / BASELINE_DIR, run_dir) if runs.is_complete(f)]
    return summarize_metrics([runs.read_metrics(f) for f in folders])


def summarize_metrics(metrics: list[dict[str, Any]]) -> str:
    """One line per model: AUC, accuracy, F1, cosine to human attention, training time."""
    def num(value: Any, digits: int = 3) -> str:
        return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "n/a"

    return "\n".join(
        f"{m['strategy']:>8}: AUC {num(m['auc'])}, accuracy {num(m['accuracy'])}, F1 {num(m['f1'])}, "
        f"cosine to human {num((m.get('attention') or {}).get('cosine_to_human'))} "
        f"(train {num(m['train_seconds'], 0)} s, {m['n_train']} reviews)"
        for m in metrics
    )


# ---------------------------------------------------------------------- inside the notebook
def notebook_setup() -> None:
    """What every humal_nb notebook calls first: plotly figures as JSON, quiet libraries."""
    import warnings

    import pandas as pd

    from humal_nb.plots import use_notebook_renderer

    use_notebook_renderer()
    pd.set_option("display.max_colwidth", None)  # error messages and table cells in full
    pd.set_option("display.max_rows", 500)
    warnings.filterwarnings("ignore")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a requirement
        pass


# ---------------------------------------------------------------------- papermill
def execute_notebook(
    notebook: str | Path,
    output: str | Path,
    parameters: dict[str, Any],
    progress: bool = False,
    cwd: str | Path | None = None,
) -> Path:
    """Execute a notebook with papermill (kernel `python3`) into `output`.

    Raises `NotebookError` naming the failed cell, the error and the partial notebook
    (papermill saves it with the error cell's output).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=progress,
            cwd=str(cwd or REPO_ROOT),
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except PapermillExecutionError as exc:
        first_line = next((line for line in (exc.source or "").splitlines() if line.strip()), "")
        raise NotebookError(
            f"{Path(notebook).name} failed in cell {exc.cell_index} (execution count {exc.exec_count}: "
            f"{first_line.strip()[:80]!r}) with {exc.ename}: {exc.evalue} "
            f"The partial notebook is at {output}.",
            exc.ename, exc.evalue, exc.cell_index, output, strip_ansi("\n".join(exc.traceback or [])),
        ) from None
    except (KeyboardInterrupt, NotebookError):
        raise
    except Exception as exc:  # the kernel died, could not start, or a cell timed out
        raise NotebookError(
            f"{Path(notebook).name} could not be executed: {type(exc).__name__}: {exc} "
            f"The partial notebook (if any) is at {output}.",
            type(exc).__name__, str(exc), None, output,
        ) from exc
    return output


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# ---------------------------------------------------------------------- HTML export
def inline_plotly(nb: Any) -> Any:
    """A copy of the notebook whose plotly JSON outputs are HTML, plotly.js inlined once."""
    import plotly.io as pio

    nb = copy.deepcopy(nb)
    first = True
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") if output.get("output_type") in ("display_data", "execute_result") else None
            if not data or PLOTLY_MIME not in data:
                continue
            spec = dict(data[PLOTLY_MIME])
            config = spec.pop("config", None) or {}
            data["text/html"] = pio.to_html(
                spec, config={"responsive": True, **config}, include_plotlyjs=first, full_html=False, validate=False
            )
            del data[PLOTLY_MIME]
            first = False
    return nb


def export_html(
    notebook_path: str | Path,
    html_path: str | Path,
    show_code: bool = False,
    title: str | None = None,
) -> Path:
    """Export an executed notebook to a self-contained HTML file (written atomically).

    Code is hidden unless `show_code`; plotly figures get plotly.js inlined; the page
    template loads no remote script (no require.js, MathJax or Mermaid from a CDN).
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = inline_plotly(nbformat.read(str(notebook_path), as_version=4))
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"humal_report.html.j2": REPORT_TEMPLATE})],
        template_name="lab",
        template_file="humal_report.html.j2",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
    )
    resources = {"metadata": {"name": title or Path(notebook_path).stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    html_path = Path(html_path)
    runs.atomic_write_text(html_path, body)
    return html_path


def remote_scripts(html: str) -> list[str]:
    """The http(s) script sources an HTML page would load (a report should have none)."""
    return re.findall(r"<script[^>]*\bsrc=[\"']?(https?:[^\"' >]+)", html, flags=re.IGNORECASE)


__all__ = [
    "export_html",
    "execute_notebook",
    "notebook_setup",
    "remote_scripts",
    "run_job",
    "run_notebook",
    "summarize_metrics",
    "summarize_run",
]
