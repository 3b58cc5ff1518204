"""Parameters: the notebook's parameters cell is RunConfig; bad run and grid files are refused
before anything runs, naming the key."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import pytest

from humal_nb.cli import commands as cli
from humal_nb.config.run_config import DEFAULTS, PARAMETER_NAMES, load_run_config
from humal_nb.core.errors import ParameterError
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import grid, notebooks

NOTEBOOKS = REPO_ROOT / "notebooks"
PARAMETERS = REPO_ROOT / "parameters"


def _parameters_cells(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]


def test_parameters_cell_is_run_config():
    cells = _parameters_cells(NOTEBOOKS / "train_strategy.ipynb")
    assert len(cells) == 1 and cells[0].cell_type == "code"
    assigned = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
        assigned[node.targets[0].id] = ast.literal_eval(node.value)
    assert list(assigned) == list(PARAMETER_NAMES)
    assert assigned == DEFAULTS
    for name, value in assigned.items():
        assert type(value) is type(DEFAULTS[name]), name


def test_papermill_reads_every_parameter():
    import papermill

    assert list(papermill.inspect_notebook(str(NOTEBOOKS / "train_strategy.ipynb"))) == list(PARAMETER_NAMES)
    assert list(papermill.inspect_notebook(str(NOTEBOOKS / "grid_report.ipynb"))) == ["grid_dir", "paired_with"]


@pytest.mark.parametrize("name", ["train_strategy.ipynb", "grid_report.ipynb"])
def test_notebooks_are_committed_clean(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert len(_parameters_cells(NOTEBOOKS / name)) == 1
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_parameter_files_are_valid():
    quick = load_run_config(PARAMETERS / "quickstart.yaml")
    assert quick.strategy == "al" and quick.compare_baseline and quick.model == DEFAULTS["model"]
    sizes = {"table3_yelp": 4 * 6 * 4 * 20, "text_length": (2 * 4 * 5 + 2 * 5) * 2 * 20,
             "data_requirement": 12 * 2 * 20}
    for name, n_cells in sizes.items():
        g = grid.load_grid(PARAMETERS / f"{name}.yaml")
        assert g.name == name and len(g.cells) == n_cells
        assert all(not c.save_model for c in g.cells)
    table3 = grid.load_grid(PARAMETERS / "table3_yelp.yaml")
    assert {c.imbalance_ratio for c in table3.cells} == {0.01, 0.02, 0.05, 0.1, 0.2, 0.5}
    assert {c.bootstrap for c in table3.cells} == set(range(20))
    assert {c.strategy for c in table3.cells} == {"baseline", "al", "an", "ap"}


# ---------------------------------------------------------------------- refused before anything runs
@pytest.fixture()
def no_execution(monkeypatch):
    """Fail the test if a notebook would be executed."""
    def refuse(*args, **kwargs):
        raise AssertionError("a notebook was executed although the parameters are bad")

    monkeypatch.setattr(notebooks, "execute_notebook", refuse)


@pytest.mark.parametrize(
    "text, key",
    [
        ("strategy: al\nlearning_rat: 0.001\n", "learning_rat"),  # unknown key
        ("data_size: many\n", "data_size"),  # wrong type
        ("compare_baseline: 3\n", "compare_baseline"),  # wrong type
        ("imbalance_ratio: 1.5\n", "imbalance_ratio"),  # out of range
        ("epochs: 0\n", "epochs"),  # out of range
        ("strategy: humal\n", "strategy"),  # not a choice
    ],
)
def test_bad_run_file_exits_2_naming_the_key(tmp_path, capsys, no_execution, text, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = tmp_path / "out"
    assert cli.main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"'{key}'" in err and "bad.yaml" in err
    assert not out.exists()


def test_bad_override_exits_2(tmp_path, capsys, no_execution):
    ok = tmp_path / "ok.yaml"
    ok.write_text("strategy: al\n")
    assert cli.main(["run", str(ok), "-p", "n_test=7", "--out", str(tmp_path / "o")]) == 2
    assert "'n_test'" in capsys.readouterr().err
    assert cli.main(["run", str(ok), "-p", "nope=1"]) == 2
    assert "'nope'" in capsys.readouterr().err


def test_missing_run_file_exits_2(tmp_path, capsys, no_execution):
    assert cli.main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ---------------------------------------------------------------------- grid files
GOOD_GRID = {
    "name": "g",
    "bootstraps": 2,
    "epochs": 1,
    "fixed": {"n_test": 20},
    "vary": {"imbalance_ratio": [0.1, 0.5], "strategy": ["baseline", "al"]},
}


def test_grid_expands_the_cross_product_with_bootstraps():
    name, cells = grid.expand_grid(GOOD_GRID)
    assert name == "g" and len(cells) == 8
    assert {(c.imbalance_ratio, c.strategy, c.bootstrap) for c in cells} == {
        (r, s, b) for r in (0.1, 0.5) for s in ("baseline", "al") for b in (0, 1)
    }
    assert all(c.epochs == 1 and c.n_test == 20 and not c.save_model for c in cells)
    g = grid.load_grid(GOOD_GRID)
    assert g.varying == ["strategy", "data_size", "imbalance_ratio", "bootstrap"]
    assert g.cell_names()[0] == "baseline_n250_r0.1_b0"


def test_grid_blocks_are_a_union_and_extra_varied_keys_name_cells():
    spec = {"vary": [
        {"length_group": ["yelp50"], "data_size": [250], "strategy": ["al"]},
        {"length_group": ["yelp200"], "data_size": [50], "strategy": ["al"], "n_test": [80]},
        {"length_group": ["yelp200"], "data_size": [50], "strategy": ["al"], "n_test": [80]},  # repeated
    ]}
    g = grid.load_grid(spec)
    assert g.name == "grid" and len(g.cells) == 2
    assert g.cell_names() == ["al_yelp50_n250_r0.05_b0_n_test-200", "al_yelp200_n50_r0.05_b0_n_test-80"]
    g = grid.load_grid({"vary": {"model": ["/tmp/models/broken", "all-MiniLM-L6-v2"]}})
    assert g.cell_names() == ["al_n250_r0.05_b0_model-broken", "al_n250_r0.05_b0_model-all-MiniLM-L6-v2"]


def test_grid_file_save_model_can_be_turned_on(tmp_path):
    path = tmp_path / "keep.yaml"
    path.write_text("save_model: true\nvary:\n  strategy: [al, an]\n")
    name, cells = grid.expand_grid(path)
    assert name == "keep" and all(c.save_model for c in cells)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"colour": "red"}, "colour"),
        ({"fixed": {"epoch": 2}}, "epoch"),
        ({"vary": {"imbalance_ratio": [0.1, 1.5]}}, "imbalance_ratio"),
        ({"vary": {"strategy": ["al", "humal"]}}, "strategy"),
        ({"vary": {"data_sise": [10]}}, "data_sise"),
        ({"vary": {"strategy": "al"}}, "strategy"),
        ({"bootstraps": 0}, "bootstraps"),
        ({"out_dir": "/tmp/x"}, "out_dir"),
        ({"vary": {"epochs": [1, 2]}}, "epochs"),  # both fixed and varied
        ({"vary": {"bootstrap": [0, 1]}}, "bootstrap"),  # and bootstraps: 2
        ({"vary": {}}, "vary"),  # empty: refused, not silently one cell
        ({"vary": []}, "vary"),
    ],
)
def test_bad_grid_is_refused_naming_the_key(change, key):
    spec = {**GOOD_GRID, **change}
    with pytest.raises(ParameterError, match=f"'{key}'"):
        grid.load_grid(spec)


def test_bad_grid_file_exits_2_before_anything_runs(tmp_path, capsys, no_execution):
    bad = tmp_path / "bad_grid.yaml"
    bad.write_text("vary:\n  data_size: [20, -5]\n")
    out = tmp_path / "out"
    assert cli.main(["grid", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'data_size'" in err and "data_size=-5" in err
    assert not out.exists()


def test_ray_executor_without_ray_says_how_to_install(tmp_path, capsys, no_execution, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed: import fails
    path = tmp_path / "g.yaml"
    path.write_text("vary:\n  strategy: [al]\n")
    assert cli.main(["grid", str(path), "--executor", "ray", "--out", str(tmp_path / "out")]) == 2
    assert "needs Ray, which is not installed: pip install -r requirements.txt" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_grid_whose_data_cannot_be_read_stops_before_anything_runs(tmp_path, capsys, no_execution):
    path = tmp_path / "g.yaml"
    path.write_text(f"data_dir: {tmp_path / 'no_such_dir'}\nvary:\n  strategy: [baseline, al]\n")
    assert cli.main(["grid", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "no_such_dir" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_relative_data_dir_variable_is_read_from_where_the_command_runs(tmp_path, monkeypatch):
    """Kernels and grid workers run in the repository's root: the command makes the variables
    absolute first, from the folder it was started in."""
    import os

    from humal_nb.core.paths import absolute_path_variables

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUMAL_DATA_DIR", "data/yelp")
    monkeypatch.setenv("HUMAL_OUTPUTS", "~/runs")
    absolute_path_variables()
    assert os.environ["HUMAL_DATA_DIR"] == str(tmp_path / "data" / "yelp")
    assert os.environ["HUMAL_OUTPUTS"] == str(Path("~/runs").expanduser())


@pytest.mark.heavy
def test_the_map_mode_has_its_own_name_and_the_old_key_is_still_read(tmp_path, yelp_dir):
    """`combine_maps` is the config mode; `human_attention` (its old name) is read from parameter
    files, grid files and older runs with a warning naming the new one; both at once is refused."""
    import warnings

    from humal_nb import data
    from humal_nb.config.grid_file import load_grid
    from humal_nb.config.run_config import RunConfig, load_run_config
    from humal_nb.core.errors import ParameterError

    assert "combine_maps" in RunConfig().to_dict() and "human_attention" not in RunConfig().to_dict()
    params = tmp_path / "old.yaml"
    params.write_text("human_attention: first\n")
    with pytest.warns(FutureWarning, match="'combine_maps'"):
        assert load_run_config(params).combine_maps == "first"
    with pytest.raises(ParameterError, match="keep only 'combine_maps'"):
        RunConfig.from_dict({"human_attention": "first", "combine_maps": "sum"})
    with pytest.warns(FutureWarning):
        grid = load_grid({"human_attention": "first", "vary": {"bootstrap": [0, 1]}})
    assert {c.combine_maps for c in grid.cells} == {"first"}
    with pytest.warns(FutureWarning, match="combine_maps"):
        old = data.load_yelp_hat(yelp_dir, human_attention="first")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = data.load_yelp_hat(yelp_dir, combine_maps="first")
    assert [list(v) for v in old["human_attention"]] == [list(v) for v in new["human_attention"]]
