"""Packed training: the models of several runs trained as one batched computation.

Runs that share a task (so a training-set size and a schedule), a model, a recipe and an
input shape are stacked with ``torch.func.stack_module_state`` and trained with one
``vmap``-ed ``functional_call`` per step (on a GPU, convolutions become grouped ones).
Each model keeps everything of its own: its initialisation (built from its seed), its
input standardisation, whitening stem and spectral read-out with its held-out logits
(fitted on its own variant's training images), its seed's batch order and weighing
images, its variant's inputs, and its BatchNorm recalibration and weighing, done after
training on its own. The loss is the sum of the models' mean losses, so each model's
gradient is its own; AdamW and the one-cycle schedule act element by element, so the
stacked optimizer is each model's optimizer. During training BatchNorm uses batch
statistics only (its running statistics are replaced by the recalibration anyway).
"""

from __future__ import annotations

import contextlib
import copy
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ..models import Classifier
from ..training.stacking import Stacking, plan_stacking, weigh_network
from ..training.trainer import (
    FilteredImages,
    non_finite_loss,
    optimizer_and_schedule,
    recalibrate_batchnorm,
    shuffled_batches,
)
from .jobs import Job, naming, new_model, new_record, trained_on
from .memory import PackTooLarge, counting_saved_bytes, parameter_bytes

#: Built-in networks, known to run under ``vmap``; a user's network trains on its own.
PACKABLE = ("fast", "resnet18")


def autocast(device: torch.device):
    """bf16 autocast on CUDA (tensor cores; float32 range, so no loss scaling); nothing elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_pack(
    jobs: list[Job], images: list[FilteredImages], device: torch.device, budget: int | None = None
) -> list[tuple[Classifier, dict]]:
    """Train one model per job on its ``images`` together; ``(model, record)`` per job.

    Raises:
        TrainingError: a model's training loss went NaN or infinite (naming its run;
            checked once an epoch, as for one model).
        PackTooLarge: the first step saved more bytes for backward (plus the parameters'
            share) than ``budget``.
    """
    start = time.perf_counter()
    recipe = jobs[0].spec.recipe
    shape = images[0].transform.output_shape((3, *jobs[0].task.train.image_size))
    models, stackings = [], []
    for job, view in zip(jobs, images):
        model = new_model(job, shape).to(device)
        model.fit_input(lambda view=view: (x for x, _ in view.batches(1024)))
        stackings.append(plan_stacking(model, view.batches(1024), view.label, job.spec.seed))
        models.append(model)
    n = len(stackings[0].fit)  # the split depends on the class counts only: one for a task
    if any(len(stacking.fit) != n for stacking in stackings):
        raise ValueError("a pack's runs must have training sets of the same class counts (one schedule)")
    params, buffers = stack_module_state(models)
    forward = vmap(packed_forward(models[0]))
    batch_size, epochs = recipe.schedule(n)
    optimizer, schedule = optimizer_and_schedule(params.values(), recipe, n)
    orders = [torch.Generator().manual_seed(job.spec.seed) for job in jobs]
    fixed = sum(parameter_bytes(m) for m in models)
    first = True
    finite = torch.ones(len(jobs), dtype=torch.bool, device=device)  # per model, checked once an epoch
    for epoch in range(epochs):
        for batches in zip(*(shuffled_batches(n, batch_size, order) for order in orders)):
            positions = [stacking.fit[batch] for stacking, batch in zip(stackings, batches)]
            x, label, readout = _stacked_batch(images, positions, stackings)
            with counting_saved_bytes() if first and budget is not None else contextlib.nullcontext() as saved:
                with autocast(device):
                    logits = forward(params, buffers, x, readout)
                loss = F.cross_entropy(
                    logits.flatten(0, 1).float(), label.flatten(), label_smoothing=recipe.label_smoothing
                ) * len(jobs)  # the sum of the models' mean losses: each model gets its own gradient
            finite &= torch.isfinite(logits.detach()).flatten(1).all(dim=1)
            if first and budget is not None and saved[0] + fixed > budget:
                raise PackTooLarge(f"{len(jobs)} models need {saved[0] + fixed} bytes, budget {budget}")
            first = False
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        _check_finite(jobs, finite, epoch, epochs)
    seconds = (time.perf_counter() - start) / len(jobs)
    precision = "bf16 autocast" if device.type == "cuda" else "float32"
    out = []
    for g, (job, model, view, order, stacking) in enumerate(zip(jobs, models, images, orders, stackings)):
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                parameter.copy_(params[name][g])
        batches = shuffled_batches(n, batch_size, order)
        recalibrate_batchnorm(model, (view.batch(stacking.fit[b])[0] for b in batches))
        weigh_network(model, view, stacking)
        where = trained_on(device) + (f", {precision}" if precision != "float32" else "")  # a resume must not mix them
        record = new_record(job, shape, seconds, trained_on=where, packed=len(jobs), precision=precision)
        out.append((model.eval(), record))
    return out


def _check_finite(jobs: list[Job], finite: torch.Tensor, epoch: int, epochs: int) -> None:
    """Stop the pack at the first model whose outputs (so its loss) went NaN or infinite,
    naming its run (a ``TrainingError``: the memory planner's fallback does not catch it)."""
    if not bool(finite.all()):
        with naming(jobs[int((~finite).nonzero()[0, 0])].spec):
            raise non_finite_loss(epoch, epochs)


def packed_forward(model: nn.Module):
    """``f(params, buffers, x, readout_logits)`` calling a stateless copy of ``model`` whose
    BatchNorm layers normalise with batch statistics and track nothing (train mode)."""
    template = copy.deepcopy(model).to("meta").train()
    for module in template.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.track_running_stats = False
    return lambda params, buffers, x, readout=None: functional_call(template, (params, buffers), (x, readout))


def _stacked_batch(
    images: list[FilteredImages], positions: list[torch.Tensor], stackings: list[Stacking]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(G, B, C, H, W)`` inputs, ``(G, B)`` labels and ``(G, B, K)`` held-out read-out
    logits (``None`` without a read-out): each model's batch of its own variant."""
    batches = [view.batch(p) for view, p in zip(images, positions)]
    readout = None
    if stackings[0].readout is not None:
        readout = torch.stack([s.readout_logits(p) for s, p in zip(stackings, positions)])
    return torch.stack([x for x, _ in batches]), torch.stack([label for _, label in batches]), readout
