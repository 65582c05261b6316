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


def _averaging_run(metric_of_call, tmp_path=None, resume: bool = False):
    """8 steps, dev evaluation every 2 steps, weights averaged over the evaluations from step 4 on."""
    torch.manual_seed(0)
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    module = torch.nn.Linear(4, 1)
    snapshots = []

    def batch_loss(batch):
        idx = torch.tensor(batch)
        return torch.nn.functional.mse_loss(module(x[idx]), y[idx])

    def evaluate():
        snapshots.append(module.weight.detach().clone())
        return metric_of_call(len(snapshots))

    config = LoopConfig(epochs=2, batch_size=8, learning_rate=0.1, eval_every=2, checkpoint_every=2,
                        average_from=0.5, warmup_ratio=0.0)
    result = train_loop(module, list(range(32)), batch_loss, evaluate, config, progress=False,
                        checkpoint_dir=tmp_path, resume=resume)
    return result, module, snapshots


def test_weight_average_is_kept_when_it_scores_higher_on_dev():
    result, module, snapshots = _averaging_run(lambda call: call / 10)  # every later call scores higher
    assert len(snapshots) == 5  # four evaluations during training, one of the average
    assert result.averaged == 3  # steps 4, 6 and 8
    expected = torch.stack(snapshots[1:4]).mean(0)
    assert torch.allclose(module.weight, expected, atol=1e-6)
    assert torch.allclose(snapshots[4], expected, atol=1e-6)
    assert result.history[-1]["average_of"] == 3 and result.best_metric == 0.5


def test_best_single_state_is_kept_when_the_average_scores_lower():
    result, module, snapshots = _averaging_run(lambda call: -call)  # the first evaluation is the best
    assert result.averaged == 0 and result.best_step == 2
    assert torch.allclose(module.weight, snapshots[0])


def test_weight_average_survives_a_resume(tmp_path):
    full, full_module, _ = _averaging_run(lambda call: call / 10)
    import shutil
    from training.loop import Checkpointer

    _averaging_run(lambda call: call / 10, tmp_path)
    for late in Checkpointer(tmp_path).complete()[1:]:  # keep only the checkpoint at step 6
        shutil.rmtree(late)
    # the metric goes on rising from where the first run stood at step 6 (its third evaluation)
    resumed, module, _ = _averaging_run(lambda call: (call + 3) / 10, tmp_path, resume=True)
    assert resumed.averaged == full.averaged == 3
    assert torch.allclose(module.weight, full_module.weight, atol=1e-6)


def test_average_from_out_of_range_is_refused():
    with pytest.raises(ValueError, match="average_from must be in"):
        LoopConfig(average_from=1.0)


def test_a_tie_on_dev_keeps_the_later_state_but_does_not_reset_patience():
    result, module, snapshots = _averaging_run(lambda call: 1.0 if call <= 4 else 0.0)  # four tied evaluations
    assert result.best_step == 8 and result.averaged == 0
    assert torch.allclose(module.weight, snapshots[3])
