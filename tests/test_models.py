"""HuMAL classifiers: strategies, AN's embedding (eq. 3), save/load, clear errors."""

import json

import pytest
import torch
from tiny_models import TOKENIZERS, base_config, tiny_model

from humal_nb.core.errors import ModelError, ParameterError
from humal_nb.method.attention import machine_attention
from humal_nb.method.models import HumalConfig, HumalForSequenceClassification, build_model, load_tokenizer
from humal_nb.method.tokens import collate, encode_texts, padding_of

WORDS = [["the", "food", "was", "great"], ["terrible", "service", "never", "again", "sadly"]]
HUMAN = [[0.0, 0.5, 0.0, 0.5], [0.4, 0.2, 0.2, 0.2, 0.0]]
LABELS = torch.tensor([1, 0])


def batch_for(family, model):
    tokenizer = TOKENIZERS[family]()
    return collate(encode_texts(tokenizer, model.family, WORDS, HUMAN), *padding_of(tokenizer))


def backbone_inputs(batch):
    return {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
@pytest.mark.parametrize("strategy", ["baseline", "al", "ap", "an"])
def test_forward_returns_losses(family, strategy):
    model = tiny_model(family, strategy)
    out = model(**batch_for(family, model), labels=LABELS)
    assert torch.isfinite(out.loss) and torch.isfinite(out.ce_loss)
    assert out.logits.shape == (2, 2)
    assert out.attention_loss is not None  # baseline/AN: monitored, without gradient
    if strategy in ("al", "ap"):
        assert out.loss.item() == pytest.approx(out.ce_loss.item() + 2.0 * out.attention_loss.item(), rel=1e-5)
        out.loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.backbone.parameters())
    else:
        assert out.loss.item() == pytest.approx(out.ce_loss.item())


def test_al_and_ap_align_different_layers():
    model = tiny_model("bert", "al")
    batch = batch_for("bert", model)
    first = machine_attention(model, batch["input_ids"], batch["attention_mask"], layer=0)
    last = machine_attention(model, batch["input_ids"], batch["attention_mask"], layer=-1)
    from humal_nb.method.losses import alignment_loss

    al = model(**batch, labels=LABELS).attention_loss
    model.config.strategy = "ap"
    ap = model(**batch, labels=LABELS).attention_loss
    assert al.item() == pytest.approx(alignment_loss(last, batch["human_tokens"], batch["attention_mask"]).item())
    assert ap.item() == pytest.approx(alignment_loss(first, batch["human_tokens"], batch["attention_mask"]).item())


def test_attention_loss_gradient_reaches_the_aligned_layer_only_for_ap():
    model = tiny_model("bert", "ap")
    batch = batch_for("bert", model)
    out = model(**batch)  # no labels: the loss is the attention term alone
    assert out.loss is None
    out.attention_loss.backward()
    first = model.backbone.encoder.layer[0].attention.self.query.weight.grad
    last = model.backbone.encoder.layer[-1].attention.self.query.weight.grad
    assert first is not None and first.abs().sum() > 0
    assert last is None or last.abs().sum() == 0


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
def test_an_embedding_is_cls_plus_alpha_weighted_sum(family):
    model = tiny_model(family, "an", alpha=2.0)
    batch = batch_for(family, model)
    seen = {}
    model.pre_classifier.register_forward_hook(lambda m, args, out: seen.setdefault("x", args[0]))
    model(**batch, labels=LABELS)
    hidden = model.backbone(**backbone_inputs(batch)).last_hidden_state
    for row in range(2):
        mask = batch["attention_mask"][row].bool()
        cls = 0 if family == "bert" else int(mask.nonzero().max())
        expected = hidden[row, cls] + 2.0 * (batch["human_tokens"][row, :, None] * hidden[row]).sum(0)
        torch.testing.assert_close(seen["x"][row], expected, atol=1e-5, rtol=1e-5)


def test_segment_ids_reach_the_backbone():
    """XLNet's <cls> has a segment of its own: the tokenizer's segment ids reach the model."""
    model = tiny_model("xlnet", "al").eval()
    batch = batch_for("xlnet", model)
    padded = batch["attention_mask"] == 0
    assert batch["token_type_ids"][:, -1].tolist() == [2, 2] and padded.any()
    assert batch["token_type_ids"][padded].eq(3).all()
    out = model(**backbone_inputs(batch), return_attention=True)
    attentions = model.backbone(**backbone_inputs(batch), output_attentions=True).attentions
    torch.testing.assert_close(out.machine_attention, attentions[-1][:, :, -1, :].mean(1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        machine_attention(model, batch["input_ids"], batch["attention_mask"], token_type_ids=batch["token_type_ids"]),
        out.machine_attention,
    )
    without = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], return_attention=True)
    assert not torch.allclose(without.machine_attention, out.machine_attention)


def test_an_predicts_without_human_attention():
    model = tiny_model("bert", "an")
    batch = batch_for("bert", model)
    plain = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    machine = model(**plain, return_attention=True)
    assert machine.machine_attention.shape == batch["input_ids"].shape
    model.config.an_inference = "none"
    none = model(**plain)
    assert not torch.allclose(machine.logits, none.logits)


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
def test_save_and_load_give_identical_logits(family, tmp_path):
    model = tiny_model(family, "an")
    batch = batch_for(family, model)
    plain = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    before = model(**plain).logits
    model.save_pretrained(tmp_path)
    loaded = HumalForSequenceClassification.from_pretrained(tmp_path).eval()
    assert loaded.config.strategy == "an"
    torch.testing.assert_close(loaded(**plain).logits, before, atol=0, rtol=0)
    from transformers import AutoModelForSequenceClassification

    auto = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(auto(**plain).logits, before, atol=0, rtol=0)


def test_default_model_loads_offline_and_starts_from_pretrained_pooler(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = build_model(strategy="al")
    tokenizer = load_tokenizer()
    assert model.backbone.config.num_hidden_layers == 6 and model.backbone.config.hidden_size == 384
    assert tokenizer.is_fast and tokenizer.padding_side == "right"
    from transformers import AutoModel

    from humal_nb.method.models import default_model_path

    pooler = AutoModel.from_pretrained(default_model_path()).pooler.dense
    torch.testing.assert_close(model.pre_classifier.weight, pooler.weight)  # BERT's own head starts there


def test_bad_strategy_and_alpha_are_refused():
    with pytest.raises(ParameterError, match="strategy 'xx'"):
        HumalForSequenceClassification(HumalConfig(base_config=base_config("bert").to_dict(), strategy="xx"))
    with pytest.raises(ParameterError, match="alpha"):
        HumalForSequenceClassification(HumalConfig(base_config=base_config("bert").to_dict(), alpha=-1))


def test_unknown_model_lists_what_is_available_offline():
    with pytest.raises(ModelError, match="all-MiniLM-L6-v2"):
        build_model("no-such-org/no-such-model")


def test_model_whose_attention_cannot_be_read(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 32}))
    with pytest.raises(ModelError, match="not supported"):
        build_model(str(tmp_path))


def test_broken_local_model_folder_says_what_is_missing(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 32}))
    with pytest.raises(ModelError, match="exists but is not a loadable"):
        build_model(str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="exists but is not a loadable"):
        load_tokenizer(str(tmp_path))


def test_a_trained_classifier_is_refused_as_a_base_model(tmp_path):
    from humal_nb.method.models import check_model

    tiny_model("bert", "al").save_pretrained(tmp_path)
    for call in (check_model, build_model):
        with pytest.raises(ModelError, match="trained humal_nb classifier \\(strategy 'al'\\).*name its base model"):
            call(str(tmp_path))


def test_max_length_beyond_the_models_positions_is_refused_before_training():
    from humal_nb.method.models import check_model, max_tokens

    check_model("all-MiniLM-L6-v2", max_length=512)
    with pytest.raises(ParameterError, match="'max_length' is 600.*at most 512 tokens.*max_length <= 512"):
        check_model("all-MiniLM-L6-v2", max_length=600)
    assert max_tokens(base_config("gpt2")) == base_config("gpt2").n_positions
    assert max_tokens(base_config("xlnet")) is None  # relative positions: no limit
    from transformers import RobertaConfig

    assert max_tokens(RobertaConfig(max_position_embeddings=514, pad_token_id=1)) == 512


def test_unsupported_family_is_refused_clearly(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "funnel", "d_model": 32}))
    with pytest.raises(ModelError, match="'funnel' is not supported.*modernbert.*llama"):
        build_model(str(tmp_path))
