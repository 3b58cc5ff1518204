"""`humal-nb run`: one parameter file, the training notebook executed into a run folder,
one HTML report.

`run_job(params.yaml)`: the parameters are validated (refused before anything runs,
naming the key), `notebooks/train_strategy.ipynb` (package data) is executed with the full validated
parameter set into the run folder (default `outputs/<yaml stem>/`), and the executed
notebook is exported to `report.html`. A run folder holds `metrics.json` only when the
notebook ran to its end: its last cell saves the run, and `train.save_run` writes
`metrics.json` last, atomically. A finished run already in the folder is set aside and
put back if the new one fails (`runs.set_aside_finished_run`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.config.package_files import resolve_parameter_file
from humal_nb.config.run_config import RunConfig, load_run_config
from humal_nb.core.errors import NotebookError
from humal_nb.core.names import BASELINE_DIR, EXECUTED_NOTEBOOK, REPORT_FILE
from humal_nb.core.paths import display_path, outputs_dir
from humal_nb.core.progress import terminal_progress
from humal_nb.experiments import notebooks

TRAIN_NOTEBOOK = notebooks.NOTEBOOKS_DIR / "train_strategy.ipynb"


def run_job(
    params_path: str | Path,
    overrides: list[str] | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Validate a parameter file, execute the training notebook, export `report.html`.

    `params_path` is a YAML file, or a preset's name (`quickstart`: `package_files.resolve_parameter_file`).
    The output folder is `out_dir`, else the file's `out_dir`, else `outputs/<yaml stem>` (`paths.outputs_dir`).
    Returns the run folder; prints where the report is. Raises `ParameterError` or
    `ModelError` before anything runs, and `NotebookError` (naming the failed cell and the partial notebook)
    when the notebook fails.
    """
    from humal_nb.method.inference import check_precision, resolve_device
    from humal_nb.method.models import check_model

    params_path = resolve_parameter_file(params_path, kind="run")
    config = load_run_config(params_path, overrides)
    check_model(config.model, config.max_length)  # offline, readable attention, before any kernel starts
    if config.precision == "bf16":  # needs native bf16 on a CPU: refused before any kernel starts
        check_precision(config.precision, resolve_device(config.device))
    out = Path(out_dir or config.out_dir or outputs_dir() / Path(params_path).stem)
    with terminal_progress(progress):  # the kernel's training bar replaces papermill's cell bar
        run_dir = run_notebook(config, out, progress=False, html=True)
    if progress:
        print(summarize_run(run_dir))
    print(f"report: {display_path(run_dir / REPORT_FILE)}")
    return run_dir


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
    kept = runs.set_aside_finished_run(out)
    try:
        notebook = notebooks.execute_notebook(TRAIN_NOTEBOOK, out / EXECUTED_NOTEBOOK, config.to_dict(), progress=progress)
    except BaseException as exc:
        if kept is None:
            raise
        failed = runs.restore_finished_run(out, kept)
        if isinstance(exc, NotebookError):
            raise _moved(exc, failed, out) from None
        raise
    if kept is not None:
        runs.drop_set_aside(out, kept)
    if html:
        notebooks.export_html(notebook, out / REPORT_FILE, title=f"HuMAL run: {config.strategy}, {out.name}")
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
