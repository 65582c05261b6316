"""One training loop for every task: shuffled batches, AdamW with warm-up, dev evaluation, best state kept,
atomic resumable checkpoints (safetensors + JSON, no pickles)."""
from __future__ import annotations

import json
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from safetensors.torch import load_file
from torch import nn
from tqdm.auto import tqdm

from model.errors import InputError
from model.storage import atomic_write_text, save_checkpoint
from training import distributed
from training.options import check_at_least


PRECISIONS = ("fp32", "bf16")


@dataclass
class LoopConfig:
    """Optimisation settings shared by all tasks.

    epochs: passes over the training set.
    batch_size: examples per optimiser step.
    learning_rate: peak AdamW learning rate, reached after warm-up, then decayed linearly to zero.
    weight_decay: AdamW weight decay (not applied to biases and LayerNorm weights).
    warmup_ratio: share of all steps spent warming up.
    grad_clip: gradient-norm clip (0 turns it off).
    eval_every: evaluate on dev every N steps (0: at the end of each epoch only).
    patience: stop after this many evaluations without improvement (0: never stop early).
    checkpoint_every: write a resumable checkpoint every N steps (0: only at epoch ends).
    seed: seeds torch, python's random and the data order.
    precision: 'fp32', or 'bf16' to run forward and backward passes under bfloat16 autocast (weights and
        optimiser state stay fp32; about twice as fast on CPUs with native bfloat16, such as AVX512-BF16).
    average_from: also keep the mean of the weights seen at each dev evaluation once this share of the steps
        is done (stochastic weight averaging); the mean replaces the best single state when it scores higher on
        dev. 0 turns it off.
    """

    epochs: float = 2.0
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    grad_clip: float = 1.0
    eval_every: int = 0
    patience: int = 0
    checkpoint_every: int = 200
    seed: int = 13
    precision: str = "fp32"
    average_from: float = 0.0

    def __post_init__(self):
        if self.epochs <= 0:
            raise ValueError("epochs must be positive")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not 0 < self.learning_rate < 1:
            raise ValueError("learning_rate must be in (0, 1)")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError("warmup_ratio must be in [0, 1)")
        if not 0 <= self.average_from < 1:
            raise ValueError("average_from must be in [0, 1)")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        check_at_least(self, 0, "weight_decay", "grad_clip", "eval_every", "patience", "checkpoint_every")


@dataclass
class LoopResult:
    best_metric: float
    best_step: int
    steps: int
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    averaged: int = 0  # states averaged into the returned weights (0: the best single state)


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _trainable(module: nn.Module) -> dict[str, nn.Parameter]:
    return {name: p for name, p in module.named_parameters() if p.requires_grad}


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the trainable weights."""
    return {name: p.detach().clone() for name, p in _trainable(module).items()}


def _load_trainable(module: nn.Module, tensors: dict[str, torch.Tensor], prefix: str = "") -> None:
    """Copy ``tensors[prefix + name]`` into each trainable weight of ``module``."""
    with torch.no_grad():
        for name, param in _trainable(module).items():
            param.copy_(tensors[prefix + name])


def _optimizer(module: nn.Module, config: LoopConfig) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, param in _trainable(module).items():
        (no_decay if param.ndim < 2 else decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def _schedule(total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The example order of one epoch: a function of seed and epoch only, so a resumed run sees the same order."""
    order = list(range(n))
    random.Random(seed * 1000003 + epoch).shuffle(order)
    return order


class Checkpointer:
    """Resumable state in ``folder/checkpoint-<step>/``: trainable weights, optimiser moments, RNG, counters.

    A checkpoint is complete once its ``state.json`` exists (written last, atomically); the two newest
    complete ones are kept, so a corrupt newest checkpoint falls back to the one before.
    """

    def __init__(self, folder: Path, keep: int = 2):
        self.folder = Path(folder)
        self.keep = keep

    def save(self, step: int, module: nn.Module, optimizer, scheduler, extra: dict,
             extra_tensors: dict[str, torch.Tensor] | None = None) -> None:
        target = self.folder / f"checkpoint-{step}"
        tensors = {f"model.{k}": v.detach() for k, v in _trainable(module).items()}
        tensors.update({f"extra.{k}": v for k, v in (extra_tensors or {}).items()})
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for i, param in enumerate(params):
            for key, value in optimizer.state.get(param, {}).items():
                if torch.is_tensor(value):
                    tensors[f"optim.{i}.{key}"] = value.reshape(-1) if value.ndim == 0 else value
        tensors["rng.torch"] = torch.get_rng_state()
        state = {"step": step, "scheduler": scheduler.state_dict(), "python_rng": _encode_rng(random.getstate()), **extra}
        save_checkpoint(target, tensors, {"kind": "training-checkpoint", "step": step})
        atomic_write_text(target / "state.json", json.dumps(state))
        for old in self.complete()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)

    def save_best(self, module: nn.Module, metric: float, step: int) -> None:
        save_checkpoint(self.folder / "best", _snapshot(module),
                        {"kind": "best-weights", "metric": metric, "step": step})

    def load_best(self, module: nn.Module) -> bool:
        path = self.folder / "best" / "model.safetensors"
        if not path.exists():
            return False
        _load_trainable(module, load_file(str(path)))
        return True

    def complete(self) -> list[Path]:
        found = [p for p in self.folder.glob("checkpoint-*") if (p / "state.json").exists()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def load_latest(self, module: nn.Module, optimizer, scheduler) -> dict | None:
        """Restore the newest readable checkpoint; returns its state dict, or None when there is none."""
        for path in reversed(self.complete()):
            try:
                tensors = load_file(str(path / "model.safetensors"))
                state = json.loads((path / "state.json").read_text())
            except Exception as err:  # truncated or corrupt: warn and try the previous one
                tqdm.write(f"checkpoint {path} is unreadable ({type(err).__name__}); trying an older one")
                continue
            _check_fits(module, tensors, path)
            _load_trainable(module, tensors, prefix="model.")
            params = [p for group in optimizer.param_groups for p in group["params"]]
            for i, param in enumerate(params):
                moments = {k.split(".", 2)[2]: v for k, v in tensors.items() if k.startswith(f"optim.{i}.")}
                if moments:
                    if "step" in moments:
                        moments["step"] = moments["step"].reshape(())
                    optimizer.state[param] = moments
            scheduler.load_state_dict(state["scheduler"])
            for group, lr in zip(optimizer.param_groups, scheduler.get_last_lr()):  # the scheduler's state alone
                group["lr"] = lr  # leaves the optimiser at its starting rate until the next step
            torch.set_rng_state(tensors["rng.torch"])
            random.setstate(_decode_rng(state["python_rng"]))
            state["extra_tensors"] = {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}
            tqdm.write(f"resumed from {path} (step {state['step']})")
            return state
        return None


def _check_fits(module: nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """InputError when the checkpoint at ``path`` lacks a trainable weight of ``module`` or holds it in another shape
    (a run with another task, label set or base model wrote it)."""
    for name, param in _trainable(module).items():
        saved = tensors.get("model." + name)
        if saved is None or saved.shape != param.shape:
            found = "no such weight" if saved is None else f"shape {tuple(saved.shape)}, not {tuple(param.shape)}"
            raise InputError(f"cannot resume: checkpoint {path} does not fit this model ({name}: {found}); it was "
                             "written by a run with another task, label set or base model. Choose another --output "
                             f"folder, or delete {path.parent} to start over")


def _encode_rng(state: tuple) -> list:
    return [state[0], list(state[1]), state[2]]


def _decode_rng(state: list) -> tuple:
    return (state[0], tuple(state[1]), state[2])


def train_loop(
    module: nn.Module,
    items: Sequence[Any],
    batch_loss: Callable[[list[Any]], torch.Tensor],
    evaluate: Callable[[], float],
    config: LoopConfig,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    on_best: Callable[[float, int], None] | None = None,
    progress: bool = True,
) -> LoopResult:
    """Minimise ``batch_loss`` over ``items``; ``evaluate`` returns a dev metric where higher is better.

    ``on_best(metric, step)`` is called whenever the dev metric improves. The best trainable weights are kept
    (on disk in ``checkpoint_dir/best`` when given) and loaded into ``module`` before returning.
    With ``resume`` the newest checkpoint in ``checkpoint_dir`` is restored and the run continues with the
    same data order, so the result matches an uninterrupted run.
    """
    start = time.time()
    set_seed(config.seed)
    steps_per_epoch = math.ceil(len(items) / config.batch_size)
    total = max(1, int(round(steps_per_epoch * config.epochs)))
    optimizer = _optimizer(module, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(total, int(total * config.warmup_ratio)))
    checkpointer = Checkpointer(checkpoint_dir) if checkpoint_dir else None
    best, best_step, step, bad_evals, history = -math.inf, 0, 0, 0, []
    average: dict[str, torch.Tensor] = {}
    averaged = 0
    if resume and checkpointer:
        state = checkpointer.load_latest(module, optimizer, scheduler)
        if state:
            step, best, best_step, bad_evals, history = (state["step"], state["best"], state["best_step"],
                                                          state["bad_evals"], state["history"])
            average, averaged = state["extra_tensors"], state.get("averaged", 0)
    shards = distributed.world_size()
    main_process = distributed.is_main()
    if not main_process:
        checkpointer = None  # only the first process writes files; the others hold identical weights
    elif shards > 1:
        tqdm.write(f"data parallel over {shards} processes (gloo): each takes 1/{shards} of every batch")
    bar = tqdm(total=total, initial=step, disable=not (progress and main_process), desc="train", unit="step",
               dynamic_ncols=True)

    window: list[float] = []
    best_memory: dict[str, torch.Tensor] = {}

    def run_eval() -> bool:
        nonlocal best, best_step, bad_evals
        module.eval()
        metric = float(evaluate())
        module.train()
        train_loss = sum(window) / len(window) if window else None
        window.clear()
        history.append({"step": step, "epoch": round(step / steps_per_epoch, 3), "dev": metric, "train_loss": train_loss})
        if main_process:
            tqdm.write(f"step {step}/{total}  epoch {step / steps_per_epoch:.2f}  train loss {train_loss or 0:.4f}  dev {metric:.4f}")
        if metric >= best:  # a tie keeps the later, longer-trained state; only a gain resets the patience
            bad_evals = 0 if metric > best else bad_evals + 1
            best, best_step = metric, step
            best_memory.clear()
            best_memory.update(_snapshot(module))
            if checkpointer:
                checkpointer.save_best(module, metric, step)
            if on_best:
                on_best(metric, step)
        else:
            bad_evals += 1
        if config.average_from and step >= config.average_from * total:
            add_to_average()
        return bool(config.patience) and bad_evals >= config.patience

    def add_to_average() -> None:
        nonlocal averaged
        averaged += 1
        with torch.no_grad():
            for name, param in _trainable(module).items():
                if name in average:
                    average[name] += (param.detach() - average[name]) / averaged
                else:
                    average[name] = param.detach().clone()

    def save_state() -> None:
        if checkpointer:
            checkpointer.save(step, module, optimizer, scheduler,
                              {"best": best, "best_step": best_step, "bad_evals": bad_evals, "history": history,
                               "averaged": averaged}, extra_tensors=average)

    module.train()
    stop = False
    while step < total and not stop:
        epoch, offset = divmod(step, steps_per_epoch)
        order = epoch_order(len(items), config.seed, epoch)
        for lo in range(offset * config.batch_size, len(order), config.batch_size):
            batch = [items[i] for i in order[lo : lo + config.batch_size]]
            if shards > 1:
                batch = batch[distributed.rank() :: shards] or batch[:1]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.precision == "bf16"):
                loss = batch_loss(batch)
            loss.backward()
            distributed.average_gradients(list(_trainable(module).values()))
            if config.grad_clip:
                nn.utils.clip_grad_norm_(list(_trainable(module).values()), config.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            window.append(loss.item())
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
            end_of_epoch = step % steps_per_epoch == 0 or step == total
            if (config.eval_every and step % config.eval_every == 0) or (end_of_epoch and not config.eval_every) or step == total:
                stop = run_eval()
            if (config.checkpoint_every and step % config.checkpoint_every == 0) or end_of_epoch or stop:
                save_state()
            if step >= total or stop:
                break
    bar.close()
    if not history:  # resumed after the final step: nothing left to train
        run_eval()
    if best_memory:
        _load_trainable(module, best_memory)
    elif checkpointer:
        checkpointer.load_best(module)
    module.eval()
    kept = 0
    if averaged >= 2:
        kept = _try_average(module, average, averaged, evaluate, best, history, step)
        if kept:
            best, best_step = history[-1]["dev"], step
            if checkpointer:
                checkpointer.save_best(module, best, step)
    return LoopResult(best, best_step, step, history, time.time() - start, kept)


def _try_average(module: nn.Module, average: dict[str, torch.Tensor], count: int, evaluate: Callable[[], float],
                 best: float, history: list[dict], step: int) -> int:
    """Score the averaged weights on dev; keep them in ``module`` if they beat ``best`` (returns ``count``), else
    put the best single state back (returns 0)."""
    kept = _snapshot(module)
    _load_trainable(module, average)
    metric = float(evaluate())
    history.append({"step": step, "average_of": count, "dev": metric})
    if distributed.is_main():
        tqdm.write(f"mean of the weights at {count} evaluations: dev {metric:.4f} (best single state {best:.4f})")
    if metric > best:
        return count
    _load_trainable(module, kept)
    return 0


def config_dict(*configs) -> dict:
    """Merge dataclass configs into one JSON-ready dict (paths as strings)."""
    out: dict = {}
    for cfg in configs:
        for key, value in asdict(cfg).items():
            out[key] = str(value) if isinstance(value, Path) else value
    return out
