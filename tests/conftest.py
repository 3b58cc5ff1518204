"""Shared fixtures: the real Yelp-HAT data, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from humal_nb.errors import DataNotFoundError


@pytest.fixture(scope="session")
def yelp_dir() -> Path:
    """The Yelp-HAT directory (argument-free lookup: $HUMAL_DATA_DIR or ../shared/data/yelp_hat)."""
    from humal_nb.paths import resolve_data_dir

    try:
        return resolve_data_dir(None)
    except DataNotFoundError as err:
        pytest.skip(f"real Yelp-HAT data not available: {err}")


@pytest.fixture(scope="session")
def yelp_df(yelp_dir: Path) -> pd.DataFrame:
    """Yelp-HAT reviews under the default settings (agreement='majority', human_attention='sum')."""
    from humal_nb.data import load_yelp_hat

    return load_yelp_hat(yelp_dir)


#: the tiny trained pair's settings: 24 training reviews, one epoch, 20 test reviews, 64 tokens
TINY_PAIR = dict(data_size=24, imbalance_ratio=0.25, n_test=20, epochs=1, max_length=64, batch_size=24)


def train_tiny_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A baseline and HuMAL-AL run on the same subset, trained once per test session
    (`train_small_runs` reuses a finished pair with the same parameters)."""
    from humal_nb import compare

    return compare.train_small_runs(tmp_path_factory.getbasetemp() / "tiny_pair", **TINY_PAIR)


@pytest.fixture(scope="session")
def minilm_pair(tmp_path_factory, yelp_dir) -> tuple[Path, Path]:
    """(baseline run, HuMAL-AL run) folders of the session's tiny pair (2-core CPU: about 1 minute once)."""
    return train_tiny_pair(tmp_path_factory)
