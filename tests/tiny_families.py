"""Tiny random models and offline tokenizers for the families added after BERT, GPT-2, XLNet.

The configs are `humal_nb.bench.families.TINY` (each family's own transformers config class).
Tokenizers imitate each family's real one: WordPiece for DistilBERT and MPNet (from
tiny_models), SentencePiece-style Unigram with [CLS] ... [SEP] for DeBERTa-v3, and byte-level
BPE without a prefix space (Llama-3, Qwen, ModernBERT) with [CLS] ... [SEP] for ModernBERT and
a prepended BOS for the decoders.
"""

from __future__ import annotations

import functools

import torch
from tiny_models import CORPUS, wordpiece_tokenizer
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from tokenizers.processors import TemplateProcessing
from transformers import PreTrainedTokenizerFast

from humal_nb.bench.families import TINY, tiny_config
from humal_nb.method.models import HumalConfig, HumalForSequenceClassification

MODEL_TYPES = list(TINY)
DECODERS = ["llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "gemma3_text"]


def tiny_model(model_type: str, strategy: str = "al", seed: int = 0, init: float = 0.02,
               **kwargs) -> HumalForSequenceClassification:
    torch.manual_seed(seed)
    config = HumalConfig(base_config=tiny_config(model_type, init=init).to_dict(), strategy=strategy, **kwargs)
    return HumalForSequenceClassification(config).eval()


def _byte_bpe(specials: list[str], template: str) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = TemplateProcessing(
        single=template, special_tokens=[(s, tok.token_to_id(s)) for s in specials if s in template]
    )
    return tok


def modernbert_tokenizer() -> PreTrainedTokenizerFast:
    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    return PreTrainedTokenizerFast(
        tokenizer_object=_byte_bpe(specials, "[CLS] $A [SEP]"), pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", unk_token="[UNK]", mask_token="[MASK]", model_input_names=["input_ids", "attention_mask"],
    )


def decoder_tokenizer() -> PreTrainedTokenizerFast:
    """Llama-3 style: a BOS first, no EOS, no pad token (load_tokenizer pads with EOS)."""
    specials = ["<|end|>", "<|begin|>"]
    out = PreTrainedTokenizerFast(
        tokenizer_object=_byte_bpe(specials, "<|begin|> $A"), bos_token="<|begin|>", eos_token="<|end|>",
        model_input_names=["input_ids", "attention_mask"],
    )
    out.pad_token = out.eos_token
    return out


def deberta_tokenizer() -> PreTrainedTokenizerFast:
    """DeBERTa-v3 style: SentencePiece (Metaspace, Unigram), [CLS] ... [SEP], segment ids."""
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    tok.train_from_iterator(CORPUS, trainers.UnigramTrainer(vocab_size=120, special_tokens=specials,
                                                            unk_token="[UNK]"))
    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", unk_token="[UNK]",
        mask_token="[MASK]", model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


@functools.cache
def tokenizer_for(model_type: str):
    """The tiny tokenizer of a model type's family, padding on the family's side."""
    from humal_nb.method.attention import family_of

    if model_type in DECODERS:
        tokenizer = decoder_tokenizer()
    else:
        tokenizer = {"modernbert": modernbert_tokenizer, "deberta-v2": deberta_tokenizer}.get(
            model_type, wordpiece_tokenizer)()
    tokenizer.padding_side = family_of(tiny_config(model_type)).padding_side
    return tokenizer
