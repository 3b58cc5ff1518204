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
