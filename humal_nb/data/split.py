"""Training subsets with an exact minority share and the fixed balanced test set (paper sec. IV)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from humal_nb.core.errors import NotEnoughDataError, ParameterError
from humal_nb.core.names import LENGTH_GROUPS


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}.")
    return int(value)


def minority_count(data_size: int, imbalance_ratio: float) -> int:
    """Minority reviews in a training subset: `data_size * imbalance_ratio` rounded half up,
    kept within 1 .. data_size - 1 so both classes are present (250 x 0.05 = 12.5 -> 13)."""
    exact = Decimal(str(data_size)) * Decimal(str(imbalance_ratio))
    rounded = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(max(rounded, 1), data_size - 1)


def _not_enough(
    what: str,
    cell: dict[str, Any],
    needed: dict[int, int],
    available: dict[int, int],
    pool_note: str,
    todo: str,
) -> NotEnoughDataError:
    names = {1: "positive (label 1)", 0: "negative (label 0)"}
    need = " and ".join(f"{needed[c]} {names[c]}" for c in (1, 0))
    have = " and ".join(f"{available[c]} {names[c]}" for c in (1, 0))
    cell_text = ", ".join(f"{k}={v}" for k, v in cell.items())
    short = ", ".join(f"{needed[c] - available[c]} {names[c].split()[0]}" for c in (1, 0) if needed[c] > available[c])
    err = NotEnoughDataError(
        f"not enough data for cell ({cell_text}): the {what} needs {need} reviews, "
        f"but {pool_note} has {have} ({short} short). {todo}"
    )
    err.needed = dict(needed)
    err.available = dict(available)
    err.cell = dict(cell)
    err.part = what
    return err


def make_split(
    df: pd.DataFrame,
    data_size: int,
    imbalance_ratio: float,
    minority_label: int = 1,
    n_test: int = 200,
    seed: int = 0,
    test_seed: int = 0,
    bootstrap: int = 0,
    length_group: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train_df, test_df) for one experiment cell (paper sec. IV).

    The test set is `n_test` reviews, half of each class, drawn with
    `default_rng(test_seed)` from `df` (restricted to `length_group` when given): the same
    for every seed, bootstrap, size and ratio. The training subset comes from the rest:
    `minority_count(data_size, imbalance_ratio)` reviews of `minority_label` and the others
    of the other class, drawn and shuffled with `default_rng([seed, bootstrap])`.
    Raises `NotEnoughDataError` (with `needed`/`available` per label) when the pool is short.
    """
    data_size, minority_label, n_test, seed, test_seed, bootstrap = _check_split_arguments(
        df, data_size, imbalance_ratio, minority_label, n_test, seed, test_seed, bootstrap
    )
    pool = _pool(df, length_group)
    labels = pool["label"].to_numpy()
    cell = {
        "data_size": data_size,
        "imbalance_ratio": imbalance_ratio,
        "minority_label": minority_label,
        "length_group": length_group or "all",
    }
    pool_name = f"the pool ({length_group or 'all lengths'}, {len(pool)} reviews)"
    test_idx = _test_indices(labels, n_test, test_seed, cell, pool_name)

    in_test = np.zeros(len(pool), dtype=bool)
    in_test[test_idx] = True
    rest = {c: np.flatnonzero((labels == c) & ~in_test) for c in (0, 1)}
    n_min = minority_count(data_size, float(imbalance_ratio))
    needed = {minority_label: n_min, 1 - minority_label: data_size - n_min}
    available = {c: len(rest[c]) for c in (0, 1)}
    if any(needed[c] > available[c] for c in (0, 1)):
        raise _not_enough(
            "training subset",
            cell,
            {c: needed[c] for c in (0, 1)},
            available,
            f"{pool_name} without the {n_test} test reviews",
            "Choose a smaller data_size or another imbalance_ratio (a grid records this cell as "
            "not enough data), or a looser agreement (e.g. 'any').",
        )
    rng = np.random.default_rng([seed, bootstrap])
    train_idx = np.concatenate(
        [rng.choice(rest[c], needed[c], replace=False) for c in (minority_label, 1 - minority_label)]
    )
    train_idx = rng.permutation(train_idx)
    train = pool.iloc[train_idx].reset_index(drop=True)
    test = pool.iloc[test_idx].reset_index(drop=True)
    return train, test


def _check_split_arguments(
    df: pd.DataFrame, data_size: Any, imbalance_ratio: Any, minority_label: Any, n_test: Any, seed: Any,
    test_seed: Any, bootstrap: Any,
) -> tuple[int, int, int, int, int, int]:
    """The integer arguments checked (ParameterError naming the one that is wrong)."""
    data_size = _check_int("data_size", data_size, 2)
    if (
        isinstance(imbalance_ratio, bool)
        or not isinstance(imbalance_ratio, int | float | np.floating)
        or not 0.0 < float(imbalance_ratio) < 1.0
    ):
        raise ParameterError(f"imbalance_ratio={imbalance_ratio!r} must be a share strictly between 0 and 1.")
    if isinstance(minority_label, bool) or minority_label not in (0, 1):
        raise ParameterError(f"minority_label={minority_label!r} must be 0 or 1.")
    n_test = _check_int("n_test", n_test, 2)
    if n_test % 2:
        raise ParameterError(f"n_test={n_test} must be even (half of the test set per class).")
    seed = _check_int("seed", seed, 0)
    test_seed = _check_int("test_seed", test_seed, 0)
    bootstrap = _check_int("bootstrap", bootstrap, 0)
    missing = [c for c in ("label", "review_id") if c not in df.columns]
    if missing:
        raise ParameterError(f"make_split needs a review frame with columns {missing}; use load_yelp_hat.")
    return data_size, int(minority_label), n_test, seed, test_seed, bootstrap


def _pool(df: pd.DataFrame, length_group: str | None) -> pd.DataFrame:
    """The reviews a split draws from: all, or one length group's."""
    pool = df
    if length_group:
        if length_group not in LENGTH_GROUPS:
            raise ParameterError(f"length_group={length_group!r} is not one of {', '.join(LENGTH_GROUPS)}.")
        if "length_group" not in df.columns:
            raise ParameterError("length_group was given but the frame has no 'length_group' column.")
        pool = df[df["length_group"] == length_group]
    return pool.reset_index(drop=True)


def _test_indices(labels: np.ndarray, n_test: int, test_seed: int, cell: dict[str, Any], pool_name: str) -> np.ndarray:
    """The balanced test set's rows of the pool, drawn with `default_rng(test_seed)`."""
    by_class = {c: np.flatnonzero(labels == c) for c in (0, 1)}
    test_needed = {c: n_test // 2 for c in (0, 1)}
    test_available = {c: len(by_class[c]) for c in (0, 1)}
    if any(test_needed[c] > test_available[c] for c in (0, 1)):
        raise _not_enough(
            f"test set (n_test={n_test})",
            cell,
            test_needed,
            test_available,
            pool_name,
            "Use a smaller n_test, another length group or a looser agreement (e.g. 'any').",
        )
    test_rng = np.random.default_rng(test_seed)
    test_idx = np.concatenate([test_rng.choice(by_class[c], n_test // 2, replace=False) for c in (0, 1)])
    return test_rng.permutation(test_idx)
