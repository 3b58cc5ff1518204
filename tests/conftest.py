"""Shared fixtures: the real Yelp-HAT data, loaded once per test session; the tiny trained
pair, trained once per test session; the `trains` marker and its guard.

- A test that trains a model (fine-tuning through `train.train_model`: a run, the tiny pair)
  is marked `trains`; a test that uses a fixture that trains (`TRAINING_FIXTURES`) is marked
  so automatically. `make test-fast` deselects them and sets `HUMAL_TEST_NO_TRAINING=1`,
  under which `train.train_model` fails the test that calls it: a test that trains without
  the mark cannot pass there.
- `HUMAL_REQUIRE_DATA=1` (`.ci/run` sets it): a missing Yelp-HAT folder fails the tests
  that need it instead of skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from humal_nb.core.errors import DataNotFoundError

#: fixtures that train a model; a test using one (directly or through another fixture) trains
TRAINING_FIXTURES = frozenset({"minilm_pair", "al_run"})
NO_TRAINING = "HUMAL_TEST_NO_TRAINING"
REQUIRE_DATA = "HUMAL_REQUIRE_DATA"


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.trains)


def pytest_configure(config) -> None:
    if os.environ.get(NO_TRAINING):
        import humal_nb.experiments.train

        def refuse(*args, **kwargs):
            pytest.fail(f"this test trains a model, but {NO_TRAINING} is set (make test-fast): mark it "
                        "@pytest.mark.trains or use a fixture in conftest.TRAINING_FIXTURES")

        humal_nb.experiments.train.train_model = refuse


@pytest.fixture(scope="session")
def yelp_dir() -> Path:
    """The Yelp-HAT directory (argument-free lookup: $HUMAL_DATA_DIR or ../shared/data/yelp_hat);
    skipped where it is missing, unless $HUMAL_REQUIRE_DATA is set (then the test fails)."""
    from humal_nb.core.paths import resolve_data_dir

    try:
        return resolve_data_dir(None)
    except DataNotFoundError as err:
        if os.environ.get(REQUIRE_DATA):
            pytest.fail(f"{REQUIRE_DATA} is set, but the real Yelp-HAT data is not available: {err}")
        pytest.skip(f"real Yelp-HAT data not available: {err}")


@pytest.fixture(scope="session")
def yelp_df(yelp_dir: Path) -> pd.DataFrame:
    """Yelp-HAT reviews under the default settings (agreement='majority', combine_maps='sum')."""
    from humal_nb.data import load_yelp_hat

    return load_yelp_hat(yelp_dir)


#: the tiny trained pair's settings: 24 training reviews, one epoch, 20 test reviews, 64 tokens
TINY_PAIR = dict(data_size=24, imbalance_ratio=0.25, n_test=20, epochs=1, max_length=64, batch_size=24)


def train_tiny_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A baseline and HuMAL-AL run on the same subset, trained once per test session
    (`train_small_runs` reuses a finished pair with the same parameters)."""
    from humal_nb.analyses import compare

    return compare.train_small_runs(tmp_path_factory.getbasetemp() / "tiny_pair", **TINY_PAIR)


@pytest.fixture(scope="session")
def minilm_pair(tmp_path_factory, yelp_dir) -> tuple[Path, Path]:
    """(baseline run, HuMAL-AL run) folders of the session's tiny pair (2-core CPU: about 1 minute once)."""
    return train_tiny_pair(tmp_path_factory)
