"""Tiny randomly initialized models and offline tokenizers for the three model families."""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from tokenizers import decoders as tk_decoders
from transformers import (
    BertConfig,
    BertTokenizerFast,
    GPT2Config,
    GPT2TokenizerFast,
    XLNetConfig,
    XLNetTokenizerFast,
)

from humal_nb.method.models import HumalConfig, HumalForSequenceClassification

CORPUS = [
    "the food was great and the staff friendly",
    "terrible service never going back again",
    "will definitely be going back to this place",
    "unbelievably overpriced pasta with cold sauce",
] * 5


def base_config(family: str, init: float = 0.5):
    if family == "bert":
        return BertConfig(
            vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, initializer_range=init, max_position_embeddings=64,
        )
    if family == "gpt2":
        return GPT2Config(
            vocab_size=300, n_embd=32, n_layer=2, n_head=4, n_positions=64,
            bos_token_id=0, eos_token_id=0, initializer_range=init,
        )
    return XLNetConfig(vocab_size=120, d_model=32, n_layer=2, n_head=4, d_inner=64, initializer_range=init)


def tiny_model(family: str, strategy: str = "al", seed: int = 0, **kwargs) -> HumalForSequenceClassification:
    torch.manual_seed(seed)
    config = HumalConfig(base_config=base_config(family).to_dict(), strategy=strategy, **kwargs)
    return HumalForSequenceClassification(config).eval()


# WordPiece pieces of the corpus's three long words; every other corpus word is one token.
# The vocabulary is written out rather than trained: the trainer breaks ties between equally
# frequent merges differently from one process to the next, which changed tokenizations.
SPLIT_WORDS = {"unbelievably": ["un", "##believ", "##ably"], "overpriced": ["over", "##priced"],
               "definitely": ["defin", "##itely"]}


def _wordpiece_vocab() -> dict[str, int]:
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for word in sorted(set(" ".join(CORPUS).split())):
        pieces += SPLIT_WORDS.get(word, [word])
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces += list(letters) + [f"##{c}" for c in letters]
    return {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}


def wordpiece_tokenizer() -> BertTokenizerFast:
    tok = Tokenizer(models.WordPiece(vocab=_wordpiece_vocab(), unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))]
    )
    return BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]")


def bpe_tokenizer() -> GPT2TokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = tk_decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS, trainer)
    out = GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                            unk_token="<|endoftext|>", add_prefix_space=True)
    out.pad_token = out.eos_token
    return out


def sentencepiece_tokenizer() -> XLNetTokenizerFast:
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Replace("``", '"'), normalizers.Replace("''", '"')])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=120, special_tokens=["<pad>", "<unk>", "<sep>", "<cls>", "<mask>"], unk_token="<unk>"
    )
    tok.train_from_iterator(CORPUS, trainer)
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(
        single="$A:0 <sep>:0 <cls>:2",  # as xlnet-base-cased: the <cls> token has a segment of its own
        special_tokens=[("<sep>", tok.token_to_id("<sep>")), ("<cls>", tok.token_to_id("<cls>"))],
    )
    out = XLNetTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", sep_token="<sep>",
                             cls_token="<cls>", mask_token="<mask>",
                             model_input_names=["input_ids", "token_type_ids", "attention_mask"])
    out.padding_side = "left"
    out._pad_token_type_id = 3  # as XLNetTokenizer: padding has a segment of its own
    return out


TOKENIZERS = {"bert": wordpiece_tokenizer, "gpt2": bpe_tokenizer, "xlnet": sentencepiece_tokenizer}
