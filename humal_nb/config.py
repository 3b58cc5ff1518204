"""One run's parameters: the dataclass whose fields are the training notebook's parameters cell.

A YAML parameter file names only what differs from these defaults (nanoGPT's config
files). `RunConfig.from_dict` refuses unknown keys, wrong types and out-of-range values
before anything runs, naming the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from humal_nb.errors import ParameterError
from humal_nb.names import (
    AGREEMENTS,
    AN_INFERENCE,
    ATTENTION_LOSS_MEANS,
    ATTENTION_LOSSES,
    ATTENTION_PATHS,
    DEFAULT_MODEL,
    DEVICES,
    HUMAN_ATTENTION_MODES,
    LABEL_BY,
    LENGTH_GROUPS,
    PRECISIONS,
    RATIONALE_SELECTIONS,
    RATIONALE_SOURCES,
    STRATEGIES,
)


@dataclass
class RunConfig:
    """Parameters of one training run (paper sec. III and IV; the defaults are the paper's)."""

    # what to train
    strategy: str = "al"
    model: str = DEFAULT_MODEL
    alpha: float = 2.0
    attention_loss: str = "cosine"
    an_inference: str = "machine"
    # data
    data_dir: str = ""
    data_file: str = ""
    agreement: str = "majority"
    human_attention: str = "sum"
    label_by: str = "majority"
    min_highlight: float = 0.0
    length_group: str = ""
    rationale_source: str = "human"
    rationale_fraction: float = 1.0
    rationale_selection: str = "stratified"
    attention_loss_mean: str = "rationales"
    shortcut_rate: float = 0.0
    # experiment cell
    data_size: int = 250
    imbalance_ratio: float = 0.05
    minority_label: int = 1
    n_test: int = 200
    bootstrap: int = 0
    seed: int = 0
    test_seed: int = 0
    # training
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    max_length: int = 256
    group_by_length: bool = False
    micro_batch_size: int = 0
    device: str = "auto"
    precision: str = "fp32"
    attention_path: str = "efficient"
    # outputs
    out_dir: str = ""
    save_model: bool = True
    compare_baseline: bool = False
    n_examples: int = 3

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Raise ParameterError naming the first key whose value is wrong."""
        for f in fields(self):
            value = getattr(self, f.name)
            expected = _TYPES[f.name]
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                setattr(self, f.name, value)
            if expected is int and isinstance(value, float) and value.is_integer():
                value = int(value)
                setattr(self, f.name, value)
            if expected is str and value is None:
                value = ""
                setattr(self, f.name, value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ParameterError(
                    f"parameter {f.name!r} must be of type {expected.__name__}, "
                    f"got {value!r} ({type(value).__name__})."
                )
            if expected is float and not math.isfinite(value):
                raise ParameterError(f"parameter {f.name!r} must be a finite number, got {value!r}.")
        self._validate_choices()
        self._validate_ranges()

    def _validate_choices(self) -> None:
        _choice("strategy", self.strategy, STRATEGIES)
        _choice("attention_loss", self.attention_loss, ATTENTION_LOSSES)
        _choice("an_inference", self.an_inference, AN_INFERENCE)
        _choice("agreement", self.agreement, AGREEMENTS)
        _choice("human_attention", self.human_attention, HUMAN_ATTENTION_MODES)
        _choice("label_by", self.label_by, LABEL_BY)
        _choice("length_group", self.length_group, ("", *LENGTH_GROUPS))
        _choice("rationale_source", self.rationale_source, RATIONALE_SOURCES)
        _choice("rationale_selection", self.rationale_selection, RATIONALE_SELECTIONS)
        _choice("attention_loss_mean", self.attention_loss_mean, ATTENTION_LOSS_MEANS)
        _choice("device", self.device, DEVICES)
        _choice("precision", self.precision, PRECISIONS)
        _choice("attention_path", self.attention_path, ATTENTION_PATHS)

    def _validate_ranges(self) -> None:
        _range("alpha", self.alpha, 0.0, None, "alpha weighs the attention term; use 0 or more")
        if not 0.0 <= self.min_highlight < 1.0:
            raise ParameterError(
                f"parameter 'min_highlight' must be at least 0 and below 1 (a share of words, "
                f"e.g. 0.02), got {self.min_highlight}."
            )
        _range("data_size", self.data_size, 2, None, "the number of training reviews")
        if not 0.0 < self.imbalance_ratio < 1.0:
            raise ParameterError(
                f"parameter 'imbalance_ratio' must be strictly between 0 and 1 (the minority "
                f"class's share of the training set, e.g. 0.05), got {self.imbalance_ratio}."
            )
        _choice("minority_label", self.minority_label, (0, 1))
        if self.n_test < 2 or self.n_test % 2:
            raise ParameterError(
                f"parameter 'n_test' must be an even number >= 2 (a balanced test set), "
                f"got {self.n_test}."
            )
        _range("bootstrap", self.bootstrap, 0, None, "bootstraps are numbered 0..n-1")
        _range("seed", self.seed, 0, None, "seeds are non-negative integers")
        _range("test_seed", self.test_seed, 0, None, "seeds are non-negative integers")
        _range("epochs", self.epochs, 1, None, "train for at least one epoch")
        _range("batch_size", self.batch_size, 1, None, "a batch holds at least one review")
        _range("micro_batch_size", self.micro_batch_size, 0, None,
               "0 runs each batch in one pass; n splits it into length-sorted passes of n reviews")
        if not self.learning_rate > 0:
            raise ParameterError(
                f"parameter 'learning_rate' must be > 0, got {self.learning_rate}."
            )
        if not 0.0 < self.rationale_fraction <= 1.0:
            raise ParameterError(
                f"parameter 'rationale_fraction' must be above 0 and at most 1 (the share of training "
                f"reviews that keep their rationale, e.g. 0.3), got {self.rationale_fraction}."
            )
        if not 0.0 <= self.shortcut_rate <= 1.0:
            raise ParameterError(
                f"parameter 'shortcut_rate' must be between 0 and 1 (the share of training texts that "
                f"carry the planted class token; 0 plants none), got {self.shortcut_rate}."
            )
        _range("weight_decay", self.weight_decay, 0.0, None, "AdamW's decoupled weight decay; 0 is plain Adam")
        _range("max_length", self.max_length, 8, None, "tokens per review after truncation")
        _range("n_examples", self.n_examples, 0, None, "number of heatmaps to show")
        if not self.model.strip():
            raise ParameterError("parameter 'model' is empty: name a model or leave the default.")

    # ------------------------------------------------------------------ conversion
    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        """Build from a mapping, refusing unknown keys (named, with the valid ones)."""
        if not isinstance(values, dict):
            raise ParameterError(f"run parameters must be a mapping, got {type(values).__name__}.")
        unknown = sorted(set(values) - set(PARAMETER_NAMES), key=str)
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))}. "
                f"Valid parameters: {', '.join(PARAMETER_NAMES)}."
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> RunConfig:
        return RunConfig.from_dict({**self.to_dict(), **changes})

    def model_seed(self) -> int:
        """Seed of the model's initialization and batch order for (seed, bootstrap)."""
        digest = hashlib.sha256(f"{self.seed}:{self.bootstrap}".encode()).hexdigest()
        return int(digest[:8], 16)

    def cell_name(self) -> str:
        """A readable, unique folder name for a grid cell."""
        parts = [
            self.strategy,
            f"n{self.data_size}",
            f"r{self.imbalance_ratio:g}",
            f"b{self.bootstrap}",
        ]
        if self.length_group:
            parts.insert(1, self.length_group)
        if self.rationale_source != "human":
            parts.append(self.rationale_source)
        if self.rationale_fraction != 1.0:
            parts.append(f"f{self.rationale_fraction:g}")
        if self.rationale_selection != "stratified":
            parts.append(self.rationale_selection)
        if self.attention_loss_mean != "rationales":
            parts.append(f"mean-{self.attention_loss_mean}")
        if self.shortcut_rate:
            parts.append(f"s{self.shortcut_rate:g}")
        return "_".join(parts)


def _choice(name: str, value: Any, valid: tuple) -> None:
    if value not in valid:
        shown = ", ".join(repr(v) for v in valid)
        raise ParameterError(f"parameter {name!r} is {value!r}; valid values: {shown}.")


def _range(name: str, value: float, low: float | None, high: float | None, why: str) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ParameterError(f"parameter {name!r} must be {bounds} ({why}), got {value}.")


_TYPES: dict[str, type] = {
    f.name: {"str": str, "int": int, "float": float, "bool": bool}[f.type]
    for f in fields(RunConfig)
}
PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(RunConfig))
# parameters that change where or how much a run writes, not its results
NON_RESULT_KEYS: tuple[str, ...] = ("out_dir", "save_model", "n_examples")
DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(RunConfig)}


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a command-line `key=value` (value read as YAML: 0.05, true, al)."""
    if "=" not in text:
        raise ParameterError(f"override {text!r} must look like key=value, e.g. epochs=2.")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ParameterError(f"override {text!r}: cannot read the value ({exc}).") from exc
    return key, value


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a parameter file into a mapping, with a clear error when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameter file {str(path)!r} does not exist.")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"parameter file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(values, dict):
        raise ParameterError(f"parameter file {str(path)!r} must hold a mapping of key: value.")
    return values


def load_run_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """A run's parameters from a YAML file plus `key=value` overrides, validated."""
    values = read_yaml(path)
    values.pop("name", None)
    for text in overrides or []:
        key, value = parse_override(text)
        values[key] = value
    try:
        return RunConfig.from_dict(values)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}") from exc


def config_hash(config: RunConfig) -> str:
    return hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


__all__ = [
    "RunConfig",
    "PARAMETER_NAMES",
    "NON_RESULT_KEYS",
    "DEFAULTS",
    "STRATEGIES",
    "load_run_config",
    "parse_override",
    "read_yaml",
    "config_hash",
]
