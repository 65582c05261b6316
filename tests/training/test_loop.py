"""The shared training loop: bfloat16 autocast trains fp32 weights; bad settings are refused."""
import pytest
import torch

from training.loop import LoopConfig, train_loop


def _regression(precision: str):
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = x @ torch.randn(8, 1)
    module = torch.nn.Linear(8, 1)
    seen = []

    def batch_loss(batch):
        idx = torch.tensor(batch)
        out = module(x[idx])
        seen.append(out.dtype)
        return torch.nn.functional.mse_loss(out.float(), y[idx])

    def evaluate():
        with torch.no_grad():
            return -float(torch.nn.functional.mse_loss(module(x), y))

    config = LoopConfig(epochs=20, batch_size=16, learning_rate=5e-2, checkpoint_every=0, precision=precision)
    start = evaluate()
    result = train_loop(module, list(range(64)), batch_loss, evaluate, config, progress=False)
    return start, result, module, seen


@pytest.mark.parametrize("precision,dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_precision_sets_the_compute_dtype_and_keeps_fp32_weights(precision, dtype):
    start, result, module, seen = _regression(precision)
    assert set(seen) == {dtype}
    assert module.weight.dtype == torch.float32
    assert result.best_metric > start / 10  # loss fell by more than 10x


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16"):
        LoopConfig(precision="fp16")
