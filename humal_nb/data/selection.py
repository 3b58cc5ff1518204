"""A run's data, chosen by its parameters: which data set it reads and its training and test split.

What training, a grid's up-front check (the cells the data cannot fill) and the grid's
workers share, so a cell's data is chosen the same way wherever it is asked for.
"""

from __future__ import annotations

import pandas as pd

from humal_nb.config.run_config import RunConfig
from humal_nb.data.generic import load_generic
from humal_nb.data.split import make_split
from humal_nb.data.yelp_hat import load_yelp_hat


def load_reviews(config: RunConfig) -> pd.DataFrame:
    """The run's data set: Yelp-HAT from `data_dir`, or a generic JSONL/CSV `data_file`."""
    if config.data_file:
        return load_generic(
            config.data_file,
            label_by=config.label_by,
            min_highlight=config.min_highlight,
            combine_maps=config.combine_maps,
            agreement=config.agreement,
        )
    return load_yelp_hat(config.data_dir or None, agreement=config.agreement, combine_maps=config.combine_maps)


def split(config: RunConfig, reviews: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training subset, test set) of the run's cell (`make_split` with the run's parameters)."""
    return make_split(
        reviews,
        config.data_size,
        config.imbalance_ratio,
        minority_label=config.minority_label,
        n_test=config.n_test,
        seed=config.seed,
        test_seed=config.test_seed,
        bootstrap=config.bootstrap,
        length_group=config.length_group or None,
    )


__all__ = ["load_reviews", "split"]
