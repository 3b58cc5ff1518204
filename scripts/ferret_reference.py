"""ferret-xai's AOPC comprehensiveness and sufficiency on the cross-check's case: tests/fixtures/ferret_aopc.json.

    .venv/bin/python -m pip install --no-deps --target /tmp/ferret_pkgs ferret-xai==0.4.2 && PYTHONPATH=/tmp/ferret_pkgs .venv/bin/python scripts/ferret_reference.py

ferret-xai cannot be installed in humal_nb's pinned environment (it requires numpy<2 and
transformers<5, and its package `__init__` imports shap, lime, captum, datasets, ...), so it
is installed without its dependencies into a folder of its own and put on PYTHONPATH for
this one run; the pinned environment is not touched. Only ferret's evaluator modules (plain
numpy/scipy/torch code) are loaded, without running its package `__init__`.

The case (model, tokenizer, texts, word scores, percents) is tests/ferret_case.py. For each
text the script records ferret's predicted class (the argmax of the model on the whole text,
the class whose probability drops are measured), the probability of that class and ferret's
AOPC comprehensiveness and sufficiency with the text's scores as the explanation (tokens
removed, rationales of 20, 30 and 50 % of the tokens). `tests/test_faithfulness.py` compares
humal_nb's numbers with these. Regenerate after any change to the case, to the tiny model
or tokenizer, or when torch/transformers change the tiny model's random initialisation.

    --output PATH   write there instead of tests/fixtures/ferret_aopc.json
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import numpy as np
import torch
import transformers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ferret_case import FIXTURE, Case, ferret_case  # noqa: E402

REGENERATE = (".venv/bin/python -m pip install --no-deps --target /tmp/ferret_pkgs ferret-xai==0.4.2 && "
              "PYTHONPATH=/tmp/ferret_pkgs .venv/bin/python scripts/ferret_reference.py")


@functools.cache
def load_ferret():
    """ferret's (faithfulness_measures, Explanation, ModelHelper), imported without its package __init__
    (once: the stand-in package stays in sys.modules). Raises ImportError when ferret is not importable."""
    spec = importlib.util.find_spec("ferret")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("ferret-xai is not importable")
    saved = sys.modules.get("ferret")
    package = types.ModuleType("ferret")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["ferret"] = package
    try:
        measures = importlib.import_module("ferret.evaluators.faithfulness_measures")
        explanation = importlib.import_module("ferret.explainers.explanation")
        model_utils = importlib.import_module("ferret.model_utils")
    finally:
        if saved is not None:
            sys.modules["ferret"] = saved
    return measures, explanation.Explanation, model_utils.ModelHelper


def ferret_version() -> str:
    try:
        return importlib.metadata.version("ferret-xai")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def ferret_aopc(case: Case) -> list[dict]:
    """Per text: words, scores, ferret's predicted class and its probability, AOPC comprehensiveness and sufficiency."""
    measures, Explanation, ModelHelper = load_ferret()
    model, tokenizer = case.model, case.tokenizer
    args = {"removal_args": {"remove_tokens": True, "based_on": "perc", "thresholds": list(case.percents)}}
    helper = ModelHelper(model, tokenizer)
    out = []
    for words, scores in zip(case.texts, case.scores):
        text = " ".join(words)
        ids = tokenizer(text)["input_ids"]
        if len(ids) != len(words) + 2:
            raise ValueError(f"the case's words are not one token each: {len(ids) - 2} tokens for {words}")
        _, logits = helper._forward(text, output_hidden_states=False)
        probs = logits.softmax(-1)[0]
        pred = int(probs.argmax())
        explained = Explanation(text=text, tokens=tokenizer.convert_ids_to_tokens(ids),
                                scores=np.array([0.0, *scores, 0.0]), explainer="given", target=pred)
        comp = measures.AOPC_Comprehensiveness_Evaluation(model, tokenizer).compute_evaluation(explained, pred, **args)
        suff = measures.AOPC_Sufficiency_Evaluation(model, tokenizer).compute_evaluation(explained, pred, **args)
        out.append({"words": list(words), "scores": [float(s) for s in scores], "pred": pred,
                    "pred_prob": float(probs[pred]), "comprehensiveness": float(comp.score),
                    "sufficiency": float(suff.score)})
    return out


def reference(case: Case) -> dict:
    return {
        "about": "ferret-xai's AOPC comprehensiveness and sufficiency on tests/ferret_case.py's case, "
                 "written by scripts/ferret_reference.py",
        "regenerate": REGENERATE,
        "ferret_xai": ferret_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "percents": list(case.percents),
        "texts": ferret_aopc(case),
    }


def dumps(data: dict) -> str:
    """JSON with one key a line and each list of numbers or words on one line (floats in full: repr)."""
    flat = re.sub(r"\[[^\[\]{}]*\]", lambda m: json.dumps(json.loads(m.group(0))), json.dumps(data, indent=1))
    return flat + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=FIXTURE)
    output = parser.parse_args(argv).output
    try:
        load_ferret()
    except ImportError as exc:
        print(f"{exc}; install it apart from the pinned environment and run this script so:\n  {REGENERATE}",
              file=sys.stderr)
        return 1
    data = reference(ferret_case())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(dumps(data))
    for j, t in enumerate(data["texts"]):
        print(f"text {j}: pred {t['pred']} (p {t['pred_prob']:.6f}) comprehensiveness {t['comprehensiveness']!r} "
              f"sufficiency {t['sufficiency']!r}")
    print(f"ferret-xai {data['ferret_xai']}, torch {data['torch']}, transformers {data['transformers']} -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
