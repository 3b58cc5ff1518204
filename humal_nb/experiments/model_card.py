"""A saved model's card: `model/README.md` in Hugging Face's model-card format.

`write_model_card(model_dir, metrics)` writes YAML front matter (`huggingface_hub.ModelCardData`:
base model, library, pipeline, tags, and the test AUC, accuracy, F1 and cosine to human as
`model-index` results) over a markdown body: what the strategy does, the data and split
(size, imbalance ratio, bootstrap, seeds), the run's parameters, the results and how to
load the model. `save_run` calls it for every `model/` it writes, so a model folder shared
on its own still says what it is.

The card is built offline (`ModelCard(text)`: no Hub call, no validation against the Hub),
and it names no path of the machine that trained it: a path-valued parameter (data_dir,
data_file, a local base model) is written as its last component, and `out_dir` is left out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from humal_nb.config import runs
from humal_nb.core.markup import format_ratio
from humal_nb.core.names import STRATEGY_LABELS

CARD_FILE = "README.md"
HUB_DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # the default model's Hub id
DEFAULT_MODEL_NAMES = ("all-MiniLM-L6-v2", "minilm", HUB_DEFAULT_MODEL)  # as models.MODEL_ALIASES
LEFT_OUT = ("out_dir",)  # parameters that describe where a run was written, not the model
HUB_LICENSES = {HUB_DEFAULT_MODEL: "apache-2.0"}  # the base models whose license is known offline
YELP_HAT_CLASSES = {0: "negative", 1: "positive"}
INSTALL = "pip install humal_nb  # or, from a checkout of humal_nb: pip install ."

STRATEGY_TEXT = {
    "baseline": "plain fine-tuning with cross-entropy (the paper's baseline).",
    "al": "HuMAL-AL, attention as loss: cross-entropy + alpha x the distance between the human attention and "
          "the last layer's attention of the classification token (paper eq. 2).",
    "ap": "HuMAL-AP, attention as prior: the same loss on the first layer's attention (paper eq. 4).",
    "an": "HuMAL-AN, attention as normalizer: the classification token's last-layer embedding plus alpha x the "
          "attention-weighted sum of the token embeddings (paper eq. 3). Human attention exists only for training "
          "data: at prediction time the model's own last-layer attention takes its place (`an_inference`).",
}


def base_model_id(name: str) -> str | None:
    """The base model's Hugging Face Hub id, or None when it is a local folder (not on the Hub)."""
    if name in DEFAULT_MODEL_NAMES:
        return HUB_DEFAULT_MODEL
    if not name or Path(name).expanduser().is_absolute() or name.startswith((".", "~")) or Path(name).is_dir():
        return None
    return name


def public_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters without machine paths: absolute paths cut to their last component."""
    shown = {}
    for key, value in parameters.items():
        if key in LEFT_OUT:
            continue
        if isinstance(value, str) and value and (Path(value).expanduser().is_absolute() or value.startswith("~")):
            value = Path(value).expanduser().name
        shown[key] = value
    return shown


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def class_names(metrics: dict[str, Any]) -> dict[int, str]:
    """Label id -> class name for config.json's id2label: Yelp-HAT's negative/positive, the names
    a generic data set's parameters give (`class_names`: a list or a mapping), else "0" and "1"."""
    parameters = metrics.get("parameters") or {}
    if not parameters.get("data_file"):
        return dict(YELP_HAT_CLASSES)
    given = parameters.get("class_names")
    if isinstance(given, dict):
        given = [given.get(k, given.get(str(k))) for k in (0, 1)]
    if isinstance(given, (list, tuple)) and len(given) == 2 and all(isinstance(n, str) and n for n in given):
        return {0: given[0], 1: given[1]}
    return {0: "0", 1: "1"}


def _data_name(parameters: dict[str, Any]) -> tuple[str, str]:
    """(dataset type, dataset name) for the card: Yelp-HAT or the generic file's name."""
    data_file = parameters.get("data_file") or ""
    if data_file:
        return "custom", Path(str(data_file)).name
    return "yelp-hat", "Yelp-HAT"


def card_data(metrics: dict[str, Any]) -> ModelCardData:
    """The YAML front matter: base model, library, tags and the test results as `model-index`."""
    parameters = metrics.get("parameters") or {}
    strategy = str(metrics.get("strategy", ""))
    dataset_type, dataset_name = _data_name(parameters)
    attention = metrics.get("attention") or {}
    results = []
    for metric, value, label in (("roc_auc", metrics.get("auc"), "AUC"), ("accuracy", metrics.get("accuracy"), "accuracy"),
                                 ("f1", metrics.get("f1"), "F1"),
                                 ("cosine_similarity", attention.get("cosine_to_human"), "cosine to human attention")):
        if _number(value) is not None:
            results.append(EvalResult(task_type="text-classification", dataset_type=dataset_type,
                                      dataset_name=f"{dataset_name} test set", dataset_split="test",
                                      metric_type=metric, metric_name=label, metric_value=round(_number(value), 4)))
    base_model = base_model_id(str(metrics.get("model", "")))
    return ModelCardData(
        base_model=base_model,
        license=HUB_LICENSES.get(base_model or ""),
        datasets=[dataset_type if dataset_type == "yelp-hat" else dataset_name],
        language="en",
        library_name="transformers",
        pipeline_tag="text-classification",
        tags=["humal", "human-attention", "attention-supervision", f"humal-{strategy}"],
        model_name=_title(metrics),
        eval_results=results or None,
    )


def _title(metrics: dict[str, Any]) -> str:
    strategy = STRATEGY_LABELS.get(metrics.get("strategy", ""), metrics.get("strategy", ""))
    model = Path(str(metrics.get("model", ""))).name
    return f"{strategy} classifier ({model}, {_data_name(metrics.get('parameters') or {})[1]})"


def _value(value: Any, digits: int = 4) -> str:
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    return str(int(number)) if isinstance(value, int) else f"{number:.{digits}f}"


def card_text(metrics: dict[str, Any]) -> str:
    """The markdown body: the strategy, the data and split, the results, how to load, the parameters."""
    parameters = public_parameters(metrics.get("parameters") or {})
    attention = metrics.get("attention") or {}
    strategy = str(metrics.get("strategy", ""))
    ratio = _number(metrics.get("imbalance_ratio"))
    rows = [
        ("base model", f"`{Path(str(metrics.get('model', ''))).name}`"),
        ("strategy", f"`{strategy}`: {STRATEGY_TEXT.get(strategy, '')}"),
        ("alpha", _value(metrics.get("alpha"), 2)),
        ("attention loss", str(metrics.get("attention_loss", ""))),
        ("data", _data_name(parameters)[1] + (f", length group {metrics['length_group']}" if metrics.get("length_group") else "")),
        ("training reviews", f"{metrics.get('n_train')} ({metrics.get('n_train_minority')} of label "
                             f"{metrics.get('minority_label')}: imbalance ratio {format_ratio(ratio) if ratio is not None else ''})"),
        ("rationales", f"{parameters.get('rationale_source', 'human')}, fraction {parameters.get('rationale_fraction', 1.0)}"),
        ("bootstrap, seed, test seed", f"{metrics.get('bootstrap')}, {metrics.get('seed')}, {metrics.get('test_seed')}"),
        ("test reviews", f"{metrics.get('n_test')} (balanced, fixed by the test seed)"),
        ("epochs", _value(metrics.get("epochs"))),
    ]
    results = [
        ("AUC", _value(metrics.get("auc"))),
        ("accuracy", _value(metrics.get("accuracy"))),
        ("F1", _value(metrics.get("f1"))),
        ("cosine to human attention (mean, std)",
         f"{_value(attention.get('cosine_to_human'))}, {_value(attention.get('cosine_to_human_std'))}"),
        ("high-attention rate", _value(attention.get("high_attention_rate"))),
    ]
    return "\n".join([
        f"# {_title(metrics)}",
        "",
        "A text classifier fine-tuned with humal_nb (HuMAL: Human-Machine Attention "
        "Learning), which trains a transformer classifier so that its attention follows the words people "
        "highlighted.",
        "",
        "## Training",
        "",
        _table(rows),
        "",
        "## Results on the test set",
        "",
        _table(results),
        "",
        *usage_lines(),
        "",
        "## Limitations",
        "",
        limitations(metrics),
        "",
        "## Parameters",
        "",
        "```json",
        json.dumps(parameters, indent=2, sort_keys=True, default=str),
        "```",
        "",
        "## Versions",
        "",
        _table(sorted((metrics.get("versions") or {}).items())),
        "",
    ])


def usage_lines() -> list[str]:
    """The card's "How to use": install humal_nb, then three lines that load the model and predict."""
    return [
        "## How to use",
        "",
        "```bash",
        INSTALL,
        "```",
        "",
        "```python",
        "import humal_nb.method.models  # registers the HuMAL architecture with transformers' Auto classes",
        "from transformers import pipeline",
        'print(pipeline("text-classification", model="path/to/model")("The food was delicious!"))',
        "```",
        "",
        "The pipeline gives the class name and its probability. `humal-nb predict RUN TEXTS --out FILE` "
        "(RUN: the folder that holds this `model/`) writes the probabilities and each text's word attention.",
    ]


def limitations(metrics: dict[str, Any]) -> str:
    """What the run's numbers say about the 0.5 threshold and the training subset's class prior."""
    names = class_names(metrics)
    minority = metrics.get("minority_label", 1)
    n_train, n_minority = metrics.get("n_train"), metrics.get("n_train_minority")
    share = n_minority / n_train if isinstance(n_train, int) and n_train and isinstance(n_minority, int) else None
    auc, accuracy, f1 = (_number(metrics.get(k)) for k in ("auc", "accuracy", "f1"))
    prior = (f"{share:.0%} of its {n_train} training reviews were of class {names.get(minority, minority)!r}"
             if share is not None else "its training reviews were imbalanced")
    text = (f"The predicted class is the one whose probability is above 0.5, and {prior}: the probabilities "
            "lean towards the other class. On the balanced test set "
            f"AUC {_value(auc)}, accuracy {_value(accuracy)}, F1 {_value(f1)}.")
    if auc is not None and accuracy is not None and auc - accuracy >= 0.1:
        text += (" The model ranks the texts well (AUC) but rarely crosses 0.5 for the minority class: choose the "
                 "threshold on held-out data with the real class prior, or use the probabilities to rank.")
    return text + (" Human attention is used only in training; the model's attention shows which words it "
                   "weighted, not why it decided.")


def _table(rows: list[tuple[str, Any]]) -> str:
    body = [f"| {name} | {str(value).replace('|', '/')} |" for name, value in rows]
    return "\n".join(["| | |", "|---|---|", *body])


def model_card(metrics: dict[str, Any]) -> ModelCard:
    """The card of a run's model from its metrics (`train.run_metrics`), built offline."""
    data = card_data(metrics)
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{card_text(metrics)}")


def write_model_card(model_dir: str | Path, metrics: dict[str, Any]) -> Path:
    """Write `model_dir/README.md` (atomically) and return its path."""
    path = Path(model_dir) / CARD_FILE
    runs.atomic_write_text(path, str(model_card(metrics)))
    return path


__all__ = ["base_model_id", "card_data", "card_text", "class_names", "limitations", "model_card", "public_parameters",
           "usage_lines", "write_model_card"]
