"""Executing humal_nb's notebooks with papermill and exporting them as self-contained HTML.

One home for what every notebook job does (`humal-nb run`, `humal-nb report`,
`humal-nb compare`): `execute_notebook` runs a notebook with parameters (a failing cell
raises `NotebookError` naming the cell, the error and the partial notebook), and
`export_html` writes the executed notebook as a page that loads no remote script: plotly
figures (stored as plotly JSON by the notebooks) become HTML with plotly.js inlined once,
live widgets become a note, and JupyterLab's CDN scripts are left out, so a report opens
offline. `execute_and_export` does both. `notebook_setup` is what every notebook calls first.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.config.package_files import notebooks_dir
from humal_nb.core.errors import NotebookError
from humal_nb.core.paths import portable_path, work_folder

#: the notebooks humal_nb executes: package data (`humal_nb/notebooks`), found with importlib.resources
NOTEBOOKS_DIR = notebooks_dir()
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
#: plotly's renderer in humal_nb's notebooks (`notebook_setup`, `plots.use_notebook_renderer`)
PLOTLY_RENDERER = "plotly_mimetype"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


# ---------------------------------------------------------------------- inside the notebook
def notebook_setup() -> None:
    """What every humal_nb notebook calls first: plotly figures as JSON, quiet libraries."""
    import warnings

    import pandas as pd
    import plotly.io as pio

    pio.renderers.default = PLOTLY_RENDERER  # figures as plotly JSON: JupyterLab renders it, export inlines plotly.js
    pd.set_option("display.max_colwidth", None)  # error messages and table cells in full
    pd.set_option("display.max_rows", 500)
    warnings.filterwarnings("ignore")
    from humal_nb.core.quiet import silence_transformers

    silence_transformers()


# ---------------------------------------------------------------------- papermill
def execute_notebook(
    notebook: str | Path,
    output: str | Path,
    parameters: dict[str, Any],
    progress: bool = False,
    cwd: str | Path | None = None,
    report: bool = False,
) -> Path:
    """Execute a notebook with papermill (kernel `python3`) into `output`.

    A training notebook is rewritten after every cell (a long run's notebook shows how far it
    got) and its kernel shut down gracefully; a `report`'s notebook (megabytes of inlined
    figures) is written once, at its end or at the failed cell, and its kernel stopped at once
    after its last cell (every output is already in the notebook).

    The kernel runs in `cwd`, by default the user's working folder (`paths.work_folder`: where
    the command started), so relative paths and default outputs are the user's, never the
    installation's. Raises `NotebookError` naming the failed cell, the error and the partial
    notebook (papermill saves it with the error cell's output).
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
            cwd=str(cwd or work_folder()),
            extra_arguments=KERNEL_ARGUMENTS,
            request_save_on_cell_execute=not report,
            shutdown_kernel="immediate" if report else "graceful",
        )
    except PapermillExecutionError as exc:
        portable_notebook(output)
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
    portable_notebook(output)
    return output


def portable_notebook(path: str | Path) -> None:
    """Rewrite an executed notebook so that it names no absolute path of this machine: papermill's
    record of the input and output notebooks becomes `notebooks/NAME.ipynb` and the file's name,
    and every absolute path among the parameters (in that record and in the injected cell) becomes
    `paths.portable_path` from the notebook's folder (`out_dir` reads "."). The cells' outputs
    name folders by `paths.display_path` already."""
    import nbformat
    from papermill.translators import translate_parameters

    path = Path(path)
    if not path.is_file():
        return
    nb = nbformat.read(str(path), as_version=4)
    record = nb.metadata.get("papermill") or {}
    parameters = {key: portable_path(value, path.parent) if isinstance(value, str) else value
                  for key, value in (record.get("parameters") or {}).items()}
    for key in ("input_path", "output_path"):
        if record.get(key):
            record[key] = "/".join(Path(str(record[key])).parts[-2 if key == "input_path" else -1:])
    if record:
        record["parameters"] = parameters
    kernel = (nb.metadata.get("kernelspec") or {}).get("name", KERNEL_NAME)
    for cell in nb.cells:
        if "injected-parameters" in (cell.get("metadata") or {}).get("tags", []):
            cell["source"] = translate_parameters(kernel, "python", parameters, "Parameters")
    runs.atomic_write_text(path, nbformat.writes(nb))


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


def strip_widgets(nb: Any, note_html: str) -> Any:
    """A copy of a notebook without live widgets: their state (which an HTML export would
    render with a script from a CDN) is dropped and each widget output becomes `note_html`."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") if output.get("output_type") in ("display_data", "execute_result") else None
            if data and WIDGET_MIME in data:
                output["data"] = {"text/html": note_html, "text/plain": "(interactive widget)"}
    return nb


def export_html(
    notebook_path: str | Path,
    html_path: str | Path,
    show_code: bool = False,
    title: str | None = None,
    widget_note: str | None = None,
) -> Path:
    """Export an executed notebook to a self-contained HTML file (written atomically).

    Code is hidden unless `show_code`; plotly figures get plotly.js inlined; the page
    template loads no remote script (no require.js, MathJax or Mermaid from a CDN); with
    `widget_note`, live widgets (whose state a page would render with a CDN script) are
    replaced by that note (`strip_widgets`).
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    if widget_note is not None:
        nb = strip_widgets(nb, widget_note)
    nb = inline_plotly(nb)
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


def execute_and_export(
    notebook: str | Path,
    out_dir: str | Path,
    parameters: dict[str, Any],
    report_name: str,
    title: str,
    widget_note: str | None = None,
    progress: bool = False,
) -> Path:
    """Execute `notebook` into `out_dir` (same file name) and export it to
    `out_dir/report_name`; with `widget_note`, live widgets are replaced by that note. The
    executed notebook is written once (not after every cell: it holds the report's figures).
    Returns the HTML report."""
    out = Path(out_dir)
    executed = execute_notebook(notebook, out / Path(notebook).name, parameters, progress=progress, report=True)
    return export_html(executed, out / report_name, title=title, widget_note=widget_note)
