"""A finished run as one noun: open its folder once, then ask it for its parameters, metrics,
test-set attention, baseline, saved model and predictions.

A run folder (`runs`) is finished when its `metrics.json` is complete (`runs.is_complete`).
`Run.open(folder)` refuses anything else and says what is missing; what reads finished runs
(export and predict, faithfulness, the explorer's layer and head attention) goes through it
and never re-parses the folder's files. A run's saved classifier is loaded here and only
here (`Run.load_model`): quietly, once per process and device, and a run without `model/`
says to train it again with `save_model: true`. Predictions come from `inference.predict`,
the forward pass of the run's own test evaluation, so reading a run needs no training code.

torch and the model code are imported when a model is asked for: opening a run and
reading its files is light.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from humal_nb.config import readers, runs
from humal_nb.config.run_config import PARAMETER_NAMES, RunConfig, renamed_parameters
from humal_nb.core.errors import DataFormatError, DataNotFoundError, HumalError, ParameterError
from humal_nb.core.names import ATTENTION_FILE, BASELINE_DIR, MANIFEST_FILE, METRICS_FILE, MODEL_DIR, SUMMARY_FILE

if TYPE_CHECKING:
    import torch

    from humal_nb.method.attention import Family
    from humal_nb.method.models import HumalForSequenceClassification
    from humal_nb.method.tokens import EncodedText


class Predictions:
    """What a run's model says of some texts, read without human attention.

    `probs`: [texts] the probability of label 1. `attention`: per text, [words] the last
    layer's word attention (eq. 1), summing to 1 over the words the model reads; words cut
    off by the run's max_length get 0 (mapped from the tokens when first asked for).
    `visible`: per text, how many leading words the model reads.
    """

    def __init__(self, probs: np.ndarray, token_attention: list[np.ndarray], encoded: list[EncodedText]) -> None:
        self.probs = probs
        self.token_attention = token_attention  # per text, [tokens] the last layer's row
        self.encoded = encoded

    @cached_property
    def attention(self) -> list[np.ndarray]:
        from humal_nb.method.tokens import tokens_to_words

        return [tokens_to_words(row, text.word_ids, text.n_words) for row, text in zip(self.token_attention, self.encoded)]

    @cached_property
    def visible(self) -> list[int]:
        return [_visible(text) for text in self.encoded]

    @property
    def truncated(self) -> list[bool]:
        """Per text, whether max_length cut words off its end."""
        return [seen < text.n_words for seen, text in zip(self.visible, self.encoded)]


class Run:
    """A finished run folder. Open one with `Run.open(folder)`.

    `folder`: the run folder; `metrics`: its `metrics.json`; `config`: its parameters as a
    `RunConfig`; `review_attention`: its test reviews (`attention.json`; `attention` is its
    deprecated name); `attention_summary`: the test set's attention numbers (`metrics.json`'s
    `attention`); `baseline`: the run in its `baseline/` (written by `compare_baseline`) or None.
    """

    def __init__(self, folder: Path, metrics: dict[str, Any]) -> None:
        self.folder = folder
        self.metrics = metrics

    def __repr__(self) -> str:
        return f"Run({str(self.folder)!r})"

    @classmethod
    def open(cls, folder: str | Path) -> Run:
        """The finished run in `folder`; DataNotFoundError naming what is missing otherwise."""
        folder = Path(folder)
        _refuse_non_run(folder)
        if not runs.is_complete(folder):
            raise DataNotFoundError(f"run folder {str(folder)!r} is not a finished run: it has no complete "
                                    f"{METRICS_FILE} ({_incomplete(folder)}). Wait for the run to end, or run it again.")
        return cls(folder, runs.read_metrics(folder))

    # ------------------------------------------------------------------ its files
    @cached_property
    def config(self) -> RunConfig:
        """The run's parameters (`metrics.json`'s `parameters`). Parameters an older run did not
        record take their defaults; names this version does not know are left out."""
        parameters = self.metrics.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise DataFormatError(f"{self.folder / METRICS_FILE}: its parameters are not a mapping; run it again.")
        try:
            known = renamed_parameters(parameters, warn=False)  # an older run's renamed keys
            return RunConfig.from_dict({k: v for k, v in known.items() if k in PARAMETER_NAMES})
        except ParameterError as err:
            raise DataFormatError(f"{self.folder / METRICS_FILE}: its parameters are not a valid run's ({err}).") from err

    @cached_property
    def review_attention(self) -> list[dict[str, Any]]:
        """Per test review (`attention.json`): review_id, label, prob, length_group, words,
        human and machine word attention, maps."""
        return read_attention(self.folder)["reviews"]

    @property
    def attention_summary(self) -> dict[str, Any]:
        """The test set's attention numbers (`metrics.json`'s `attention`: cosine_to_human,
        high_attention_rate, ...); an empty dict where the run recorded none."""
        summary = self.metrics.get("attention")
        return dict(summary) if isinstance(summary, dict) else {}

    @property
    def attention(self) -> list[dict[str, Any]]:
        """Deprecated name of `review_attention` (per test review); the summary numbers are
        `attention_summary`."""
        warnings.warn("Run.attention is deprecated: use Run.review_attention for the per-review attention "
                      "(attention.json) or Run.attention_summary for the summary numbers.",
                      DeprecationWarning, stacklevel=2)
        return self.review_attention

    @cached_property
    def baseline(self) -> Run | None:
        """The baseline trained beside this run on the same subset (`baseline/`), or None."""
        folder = self.folder / BASELINE_DIR
        return Run.open(folder) if folder.is_dir() else None

    # ------------------------------------------------------------------ its model
    @property
    def model_dir(self) -> Path:
        return self.folder / MODEL_DIR

    @property
    def has_model(self) -> bool:
        """Whether the run saved its model (`save_model: true`)."""
        return (self.model_dir / "config.json").is_file()

    def require_model(self, check_files: bool = True) -> Path:
        """The saved model's folder; DataNotFoundError when the run has none. With `check_files`
        (before a model loads), its weights and tokenizer are checked too (`readers.check_model_folder`);
        a reader of the run's caches, which may need no model at all, leaves that to the load."""
        if self.has_model:
            if check_files:
                readers.check_model_folder(self.model_dir)  # its tokenizer files too, before a model loads
        else:
            raise DataNotFoundError(
                f"run folder {str(self.folder)!r} has no saved model ({MODEL_DIR}/): predicting, faithfulness and "
                "attention by layer and head need it. Rerun it with save_model: true (the default; e.g. humal-nb run "
                "PARAMS.yaml -p save_model=true). Its last layer's attention on the test set is in attention.json."
            )
        return self.model_dir

    def load_model(self, device: str | torch.device = "cpu") -> HumalForSequenceClassification:
        """The saved classifier in eval mode on `device` (`auto`, `cpu`, `cuda` or a torch.device),
        loaded once per process and device (until its files change, or `clear_model_cache`);
        every caller shares it, so none may change it."""
        from humal_nb.method.inference import resolve_device

        folder = self.require_model()
        device = resolve_device(device) if isinstance(device, str) else device
        return _load_model(str(folder.resolve()), _stamp(folder), str(device))

    @property
    def tokenizer(self) -> Any:
        """The saved tokenizer, its padding side set for the model's family."""
        folder = self.require_model()
        return _load_tokenizer(str(folder.resolve()), _stamp(folder))[0]

    @property
    def family(self) -> Family:
        """The saved model's family (`attention.Family`), read without loading its weights."""
        folder = self.require_model()
        return _load_tokenizer(str(folder.resolve()), _stamp(folder))[1]

    # ------------------------------------------------------------------ reading texts
    def encode(self, texts: str | Sequence[str | Sequence[str]]) -> list[EncodedText]:
        """Texts (one string, or a list or tuple of strings, split on whitespace, or of word
        lists) tokenized as the model reads them: its family's special tokens, the run's max_length."""
        from humal_nb.method.tokens import encode_texts

        return encode_texts(self.tokenizer, self.family, _words(texts), max_length=self.config.max_length)

    def visible(self, texts: str | Sequence[str | Sequence[str]]) -> list[int]:
        """Per text, how many leading words the model reads (within max_length)."""
        return [_visible(text) for text in self.encode(texts)]

    def predict(
        self, texts: str | Sequence[str | Sequence[str]], batch_size: int = 64, device: str | torch.device = "auto",
        precision: str = "fp32",
    ) -> Predictions:
        """The probability of label 1 and the last layer's word attention of each text, as the
        run's test evaluation computes them.

        Args:
            texts: one text (a string), or a list or tuple of texts (strings, split on whitespace,
                or word lists); no human attention is given. Anything else is a ParameterError.
            batch_size: texts per forward pass (batched longest first).
            device: `auto`, `cpu`, `cuda` or a torch.device.
            precision: `fp32` (the test evaluation's arithmetic on a CPU), `bf16` or `auto` (bf16
                where it is native; `inference.effective_precision`).
        """
        from humal_nb.method.inference import check_precision, predict, resolve_device

        words = _words(texts)  # bad input is refused before a model loads
        device = resolve_device(device) if isinstance(device, str) else device
        check_precision(precision, device)
        model = self.load_model(device)
        encoded = self.encode(words)
        probs, rows = predict(model, self.tokenizer, encoded, device, batch_size=batch_size, precision=precision)
        return Predictions(probs, rows, encoded)


# ---------------------------------------------------------------------- attention.json
read_attention = readers.read_attention  # the one reader of attention.json


def _refuse_non_run(folder: Path) -> None:
    """DataNotFoundError / ParameterError when `folder` is no run folder: missing, a file, a grid's."""
    if folder.is_file():
        raise ParameterError(f"{str(folder)!r} is a file, not a run folder: pass the folder of a finished humal-nb "
                             f"run (it holds {METRICS_FILE} and {ATTENTION_FILE}).")
    if not folder.is_dir():
        raise DataNotFoundError(f"run folder {str(folder)!r} does not exist. Pass the folder of a finished "
                                f"humal-nb run (it holds {METRICS_FILE} and {ATTENTION_FILE}).")
    if not (folder / METRICS_FILE).exists() and ((folder / MANIFEST_FILE).is_file() or (folder / SUMMARY_FILE).is_file()):
        example = next((p.name for p in sorted(folder.iterdir()) if runs.is_complete(p)), "CELL")
        raise ParameterError(f"{str(folder)!r} is a grid's folder, not a run: open one of its cells, e.g. "
                             f"Run.open({str(folder / example)!r}).")


# ---------------------------------------------------------------------- the one model loader
def _incomplete(folder: Path) -> str:
    """What is wrong with an unfinished run's metrics.json, in words."""
    path = folder / METRICS_FILE
    if not path.is_file():
        return "there is none"
    try:
        metrics = readers.read_json_file(path)
    except HumalError:
        return "it cannot be read as JSON: cut short or damaged"
    return readers.metrics_problem(metrics) or "it is complete"


def _stamp(model_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """The saved model's files (name, size, modification time): a model saved again is loaded again."""
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(model_dir.iterdir()) if p.is_file())


@functools.lru_cache(maxsize=4)
def _load_model(model_dir: str, stamp: tuple, device: str) -> HumalForSequenceClassification:
    import torch

    from humal_nb.core.quiet import quiet_transformers
    from humal_nb.method.models import HumalForSequenceClassification

    with quiet_transformers():  # no "Loading weights" bar in a command's output or a report
        model = HumalForSequenceClassification.from_pretrained(model_dir).eval()
    return model.to(torch.device(device))


@functools.lru_cache(maxsize=4)
def _load_tokenizer(model_dir: str, stamp: tuple) -> tuple[Any, Family]:
    from transformers import AutoTokenizer

    from humal_nb.core.quiet import quiet_transformers
    from humal_nb.method.attention import family_of
    from humal_nb.method.models import HumalConfig

    with quiet_transformers():
        family = family_of(HumalConfig.from_pretrained(model_dir).base())
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = family.padding_side
    return tokenizer, family


def clear_model_cache() -> None:
    """Forget every loaded model and tokenizer (the next call loads them from disk again)."""
    _load_model.cache_clear()
    _load_tokenizer.cache_clear()


TEXTS_ACCEPTED = "a string (one text) or a list or tuple of strings (or of word lists)"


def _words(texts: str | Sequence[str | Sequence[str]]) -> list[list[str]]:
    """Each text as its words; ParameterError naming the accepted types for anything else."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        raise ParameterError(f"texts must be {TEXTS_ACCEPTED}, got {type(texts).__name__}.")
    words = []
    for number, text in enumerate(texts, start=1):
        if isinstance(text, str):
            words.append(text.split())
        elif isinstance(text, (list, tuple)) and all(isinstance(word, str) for word in text):
            words.append(list(text))
        else:
            raise ParameterError(f"texts must be {TEXTS_ACCEPTED}; text {number} is a {type(text).__name__}.")
    return words


def _visible(text: EncodedText) -> int:
    return max((w for w in text.word_ids if w is not None), default=-1) + 1


__all__ = ["Predictions", "Run", "clear_model_cache", "read_attention"]
