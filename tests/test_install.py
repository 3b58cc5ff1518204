"""What makes humal_nb work outside its checkout, without building anything: the packaged
notebooks and presets, preset names on the command line, `humal-nb notebooks`, `--version`,
and defaults that follow the user's working folder (outputs, data)."""

from __future__ import annotations

import json

import nbformat
import pytest
import yaml

import humal_nb
from humal_nb.cli import commands as cli
from humal_nb.config import package_files
from humal_nb.core import paths
from humal_nb.core.errors import DataNotFoundError, ParameterError, TargetExistsError
from humal_nb.experiments.notebooks import NOTEBOOKS_DIR


def test_notebooks_and_presets_are_package_data():
    assert NOTEBOOKS_DIR == package_files.notebooks_dir()
    assert NOTEBOOKS_DIR.parent.resolve() == paths.PACKAGE_DIR
    assert {p.name for p in package_files.notebook_files()} == {
        "annotate.ipynb", "compare_attention.ipynb", "grid_report.ipynb", "train_strategy.ipynb"}
    presets = package_files.preset_files()
    assert "quickstart" in presets and "table3_yelp" in presets
    assert all(p.parent.resolve() == paths.PACKAGE_DIR / "parameters" for p in presets.values())
    # the checkout's top-level folders are links to the package's, one copy of each file
    for name in ("notebooks", "parameters"):
        top = paths.REPO_ROOT / name
        assert top.is_symlink() and top.resolve() == paths.PACKAGE_DIR / name


def test_a_preset_by_name_and_a_file_path_that_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quickstart = package_files.preset_files()["quickstart"]
    for given in ("quickstart", "quickstart.yaml", "parameters/quickstart.yaml"):
        assert package_files.resolve_parameter_file(given) == quickstart
    assert package_files.resolve_parameter_file("table3_yelp", kind="grid").name == "table3_yelp.yaml"
    own = tmp_path / "quickstart.yaml"
    own.write_text("strategy: baseline\n")
    assert package_files.resolve_parameter_file("quickstart.yaml") == own.relative_to(tmp_path)
    assert package_files.preset_source(quickstart) == "parameters/quickstart.yaml"
    assert package_files.preset_source("quickstart.yaml") == "quickstart.yaml"


def test_an_unknown_name_lists_the_presets_of_its_kind(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match="does not exist") as run_err:
        package_files.resolve_parameter_file("quikstart")
    assert "run presets are: quickstart" in str(run_err.value) and "table3_yelp" not in str(run_err.value)
    with pytest.raises(ParameterError) as grid_err:
        package_files.resolve_parameter_file("table3", kind="grid")
    assert "table3_yelp" in str(grid_err.value) and "humal-nb grid" in str(grid_err.value)
    assert cli.main(["run", "quikstart"]) == 2
    assert "quickstart" in capsys.readouterr().err
    assert cli.main(["grid", "nope"]) == 2
    assert "grid presets are:" in capsys.readouterr().err
    assert not (tmp_path / "outputs").exists()


def test_run_job_takes_a_preset_name(tmp_path, monkeypatch):
    """`humal-nb run quickstart`: the preset's parameters, the run folder `./outputs/quickstart`."""
    from humal_nb.experiments import job

    seen = {}

    def fake_run_notebook(config, out, progress=False, html=True):
        seen.update(config=config, out=out)
        raise KeyboardInterrupt  # stop before anything runs

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUMAL_OUTPUTS", raising=False)
    monkeypatch.delenv(paths.CWD_VARIABLE, raising=False)
    monkeypatch.setattr(job, "run_notebook", fake_run_notebook)
    with pytest.raises(KeyboardInterrupt):
        job.run_job("quickstart", overrides=["epochs=1"], progress=False)
    assert seen["config"].compare_baseline and seen["config"].epochs == 1
    assert seen["out"].resolve() == (tmp_path / "outputs" / "quickstart").resolve()


def test_copy_notebooks_clean_and_refusing_to_overwrite(tmp_path, capsys):
    out = tmp_path / "nb"
    written = package_files.copy_notebooks(out)
    assert sorted(p.name for p in written) == sorted(p.name for p in package_files.notebook_files())
    for path in written:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    mine = out / "train_strategy.ipynb"
    mine.write_text("my edits")
    with pytest.raises(TargetExistsError, match="--force"):
        package_files.copy_notebooks(out)
    assert mine.read_text() == "my edits"  # nothing was written
    assert cli.main(["notebooks", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exist" in err and "--force" in err
    assert cli.main(["notebooks", str(out), "--force"]) == 0
    assert json.loads(mine.read_text())["cells"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(TargetExistsError, match="not a folder"):
        package_files.copy_notebooks(tmp_path / "file")


def test_clean_notebook_strips_outputs_and_needs_one_parameters_cell():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}, execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="hi")]),
    ])
    clean = package_files.clean_notebook(nb)
    assert clean.cells[0].outputs == [] and clean.cells[0].execution_count is None
    nb.cells[0].metadata["tags"] = []
    with pytest.raises(humal_nb.core.errors.HumalError, match="exactly one"):
        package_files.clean_notebook(nb, "x.ipynb")


def test_version_is_single_sourced(capsys):
    import tomllib

    project = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"] and "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "humal_nb.__version__"}
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"humal-nb {humal_nb.__version__}"


def test_outputs_follow_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("HUMAL_OUTPUTS", raising=False)
    monkeypatch.delenv(paths.CWD_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.outputs_dir() == tmp_path / "outputs"
    monkeypatch.setenv(paths.CWD_VARIABLE, str(tmp_path / "start"))  # a kernel of a command started there
    assert paths.outputs_dir() == tmp_path / "start" / "outputs"
    assert paths.work_folder() == tmp_path / "start"
    monkeypatch.setenv("HUMAL_OUTPUTS", str(tmp_path / "elsewhere"))
    assert paths.outputs_dir() == tmp_path / "elsewhere"


def test_the_checkout_is_recognized_and_its_data_default_only_there(tmp_path, monkeypatch):
    assert paths.checkout_root() == paths.REPO_ROOT  # these tests run from the checkout
    assert paths.default_data_dir() == paths.REPO_ROOT.parent / "shared" / "data" / "yelp_hat"
    assert paths.relative_base() == paths.REPO_ROOT
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)  # an installation: site-packages, no pyproject.toml
    monkeypatch.delenv("HUMAL_DATA_DIR", raising=False)
    monkeypatch.delenv(paths.CWD_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path.parent / "shared" / "data" / "yelp_hat").mkdir(parents=True, exist_ok=True)  # ignored when installed
    assert paths.checkout_root() is None and paths.default_data_dir() is None
    assert paths.relative_base() == tmp_path
    with pytest.raises(DataNotFoundError) as err:
        paths.resolve_data_dir(None)
    message = str(err.value)
    for needed in (*paths.YELP_HAT_FILES, "HUMAL_DATA_DIR", "--data-dir", "data_dir", paths.YELP_HAT_URL):
        assert needed in message
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("HUMAL_DATA_DIR", str(data))
    assert paths.resolve_data_dir(None) == data


def test_grid_records_a_preset_by_its_name(tmp_path, monkeypatch):
    """A grid run by a preset's name records `parameters/NAME.yaml`, never the installation's path."""
    from humal_nb.experiments import grid

    spec = yaml.safe_load(package_files.preset_files()["table3_yelp"].read_text())
    seen = {}

    def fake_plan(g, grid_dir, path):
        seen.update(path=path, name=g.name)
        raise KeyboardInterrupt

    monkeypatch.setattr(grid, "_plan", fake_plan)
    with pytest.raises(KeyboardInterrupt):
        grid.run_grid("table3_yelp", out_dir=tmp_path / "g", progress=False, report=False)
    assert seen["name"] == spec["name"]
    assert package_files.preset_source(seen["path"]) == "parameters/table3_yelp.yaml"
