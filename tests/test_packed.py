"""Packed training and the memory planner: each packed model is the model trained alone."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch.func import stack_module_state, vmap

import freqprobe as fp
from freqprobe.ablation.tasks import build_tasks
from freqprobe.errors import TrainingError
from freqprobe.execution import Job, LocalExecutor, RunSpec, TrainingViews, local, memory, packed, run_job
from freqprobe.execution.jobs import new_model
from freqprobe.execution.packed import packed_forward, train_pack
from freqprobe.training import Recipe
from freqprobe.transforms import transform

from synthetic import planted_sets

CPU = torch.device("cpu")
FEW_STEPS = Recipe(epochs=1, min_steps=6)
FAST = Recipe(epochs=2, min_steps=40)
#: Weights of a packed model against the same model trained alone after six AdamW steps:
#: the batched (grouped) convolutions sum in another order, so float32 rounding differs.
WEIGHT_TOLERANCE = 1e-4


def sets(n: int = 64) -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(n, 32, 0.3, 0.4, 0.06, 0)
    return fp.ImageSet(real, origin="real"), fp.ImageSet(fake, origin="fake")


def jobs_of(runs: list[tuple[str, int]], recipe: Recipe = FEW_STEPS, model: str = "fast") -> list[Job]:
    real, fake = sets()
    task = build_tasks({"real": real, "fake": fake}, 0.2, 0, "auto", False, False)[0]
    return [
        Job(RunSpec(task.name, task.classes, ("r", "f"), "s", variant, seed, model, recipe), task, (variant,))
        for variant, seed in runs
    ]


def test_each_packed_model_equals_the_model_trained_alone() -> None:
    jobs = jobs_of([("original", 0), ("original", 1), ("highpass:0.2", 0)])
    views = TrainingViews(CPU, keep=3)
    images = [views.get(job.task, transform(job.spec.variant)) for job in jobs]
    packed = train_pack(jobs, images, CPU)
    for job, (model_packed, record) in zip(jobs, packed):
        alone = run_job(job, TrainingViews(CPU)).state
        assert record["packed"] == 3
        for name, value in model_packed.state_dict().items():
            torch.testing.assert_close(value, alone[name], atol=WEIGHT_TOLERANCE, rtol=0, msg=name)
    first, second = (dict(m.named_parameters())["net.head.weight"] for m, _ in packed[:2])
    assert (first - second).abs().max() > 1e-2  # two seeds: two initialisations, two batch orders


@pytest.mark.parametrize("model", ["fast", "resnet18"])
def test_packed_logits_and_gradients_are_each_models_own_in_float64(model: str) -> None:
    """Exact up to float64 rounding (in float32 a ReLU network's gradients differ by up to
    1e-3 relative where a pre-activation sits at the kink: a rounding, not a packing, effect)."""
    jobs = jobs_of([("original", 0), ("original", 1)], model=model)
    models = [new_model(job, (3, 32, 32)).double().train() for job in jobs]
    x = torch.rand(2, 4, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    label = torch.tensor([[0, 1, 0, 1], [1, 1, 0, 0]])
    params, buffers = stack_module_state(models)
    logits = vmap(packed_forward(models[0]))(params, buffers, x)
    (F.cross_entropy(logits.flatten(0, 1), label.flatten()) * 2).backward()
    for g, model in enumerate(models):
        alone = model(x[g])
        F.cross_entropy(alone, label[g]).backward()
        torch.testing.assert_close(logits[g], alone, rtol=1e-10, atol=1e-12)
        for name, parameter in model.named_parameters():
            torch.testing.assert_close(params[name].grad[g], parameter.grad, rtol=1e-9, atol=1e-12, msg=name)


@pytest.mark.parametrize("n", [64, 330], ids=["boosted", "weighed"])  # 330: the network is weighed (stacking.py)
def test_a_packed_study_gives_the_sequential_results_with_the_same_run_keys(n: int) -> None:
    real, fake = sets(n)
    kwargs = dict(variants=["original", "highpass:0.2"], seeds=2, recipe=FAST, progress=False)
    sequential = fp.ablate(real, fake, **kwargs)
    packed = fp.ablate(real, fake, executor=LocalExecutor(CPU, pack=True), **kwargs)
    assert list(packed.table["run"]) == list(sequential.table["run"])
    # identical predictions expected; a float tie could flip one test image
    n_test = sequential.table["n_test"]
    assert ((packed.table["accuracy"] - sequential.table["accuracy"]).abs() <= 1 / n_test).all()
    pd.testing.assert_frame_equal(
        packed.table.drop(columns=["accuracy", "ci_low", "ci_high", "p_value", "auc"]),
        sequential.table.drop(columns=["accuracy", "ci_low", "ci_high", "p_value", "auc"]),
    )
    gains = [[float(study.store.model(run, CPU).readout.network_gain) for run in study.table["run"]]
             for study in (packed, sequential)]  # fmt: skip
    assert gains[0] == pytest.approx(gains[1], rel=1e-4, abs=1e-6)


def recorded_packs(monkeypatch) -> list[int]:
    sizes: list[int] = []

    def recording(jobs, *args, **kwargs):
        sizes.append(len(jobs))
        return train_pack(jobs, *args, **kwargs)

    monkeypatch.setattr(local, "train_pack", recording)
    return sizes


def test_the_memory_planner_splits_a_group_that_does_not_fit_the_budget(monkeypatch) -> None:
    jobs = jobs_of([("original", seed) for seed in range(5)])
    per_model = local._model_bytes(jobs[0])
    assert per_model > memory.parameter_bytes(local.new_model(jobs[0], (3, 32, 32)))  # activations counted
    sizes = recorded_packs(monkeypatch)
    results = list(LocalExecutor(CPU, pack=True, budget=local._views_bytes(jobs) + 2 * per_model + 1).run(jobs))
    assert sizes == [2, 2]  # and the fifth run alone: 5 runs as 2 + 2 + 1
    assert sorted(r.job.spec.seed for r in results) == list(range(5))


def test_a_pack_over_budget_at_its_first_step_is_split_and_no_run_is_lost(monkeypatch) -> None:
    jobs = jobs_of([("original", 0), ("original", 1), ("highpass:0.2", 0), ("highpass:0.2", 1)])
    monkeypatch.setattr(local, "pack_size", lambda *args: 4)  # a planner that underestimates
    sizes = recorded_packs(monkeypatch)
    budget = local._views_bytes(jobs) + int(2.5 * local._model_bytes(jobs[0]))
    results = list(LocalExecutor(CPU, pack=True, budget=budget).run(jobs))
    assert sizes == [4, 2, 2]  # four did not fit, two did
    assert [r.job.spec.key for r in results] == [job.spec.key for job in jobs]
    for result in results:
        alone = run_job(result.job, TrainingViews(CPU)).state
        torch.testing.assert_close(result.state["net.head.weight"], alone["net.head.weight"], atol=WEIGHT_TOLERANCE, rtol=0)


def test_an_out_of_memory_error_shrinks_the_pack_and_retries(monkeypatch) -> None:
    jobs = jobs_of([("original", seed) for seed in range(4)])
    sizes: list[int] = []

    def small_device(pack, *args, **kwargs):
        sizes.append(len(pack))
        if len(pack) > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return train_pack(pack, *args, **kwargs)

    monkeypatch.setattr(local, "train_pack", small_device)
    results = list(LocalExecutor(CPU, pack=True, budget=1 << 40).run(jobs))
    assert sizes == [4, 2, 2]  # then packs of one run the sequential path
    assert [r.job.spec.seed for r in results] == [0, 1, 2, 3]


def test_a_packed_model_whose_loss_goes_nan_stops_the_study_naming_its_run(monkeypatch) -> None:
    jobs = jobs_of([("original", 0), ("original", 1), ("original", 2)])
    built = packed.new_model

    def poisoned(job, shape):
        model = built(job, shape)
        if job.spec.seed == 1:  # one model of the pack: its logits are NaN from the first step
            with torch.no_grad():
                dict(model.named_parameters())["net.head.weight"].fill_(float("nan"))
        return model

    monkeypatch.setattr(packed, "new_model", poisoned)
    sizes = recorded_packs(monkeypatch)
    named = r"^run binary original seed 1 \(fast\): the training loss is not a finite"
    with pytest.raises(TrainingError, match=named):
        list(LocalExecutor(CPU, pack=True, budget=1 << 40).run(jobs))
    assert sizes == [3]  # not taken for a pack too large: no retry in smaller packs


def test_runs_spread_over_several_devices_all_come_back() -> None:
    jobs = jobs_of([("original", seed) for seed in range(3)])
    executor = LocalExecutor(CPU, pack=True)
    executor.devices = [CPU, CPU]  # two workers, as two GPUs would be
    results = list(executor.run(jobs))
    assert sorted(r.job.spec.seed for r in results) == [0, 1, 2]


def test_a_user_network_is_not_packed(monkeypatch) -> None:
    jobs = jobs_of([("original", 0), ("original", 1)], model="synthetic:tiny_net")
    sizes = recorded_packs(monkeypatch)
    assert len(list(LocalExecutor(CPU, pack=True).run(jobs))) == 2 and sizes == []


def test_saved_bytes_count_what_autograd_keeps_for_backward() -> None:
    x = torch.ones(1000, requires_grad=True)
    with memory.counting_saved_bytes() as total:
        (x * x).sum()  # mul saves both operands: one storage, counted once
    assert total[0] == 4000


def test_split_cuts_evenly() -> None:
    assert [len(c) for c in memory.split(list(range(5)), 2)] == [2, 2, 1]
    assert [len(c) for c in memory.split(list(range(7)), 3)] == [3, 2, 2]


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
def test_on_cuda_a_packed_study_matches_the_sequential_one_and_sets_are_resident() -> None:
    real, fake = sets()
    kwargs = dict(variants=["original", "highpass:0.2"], seeds=2, recipe=FAST, progress=False, device="cuda:0")
    sequential = fp.ablate(real, fake, executor=LocalExecutor(torch.device("cuda:0"), pack=False), **kwargs)
    packed = fp.ablate(real, fake, **kwargs)  # packs by default on CUDA, in bf16
    assert list(packed.table["run"]) == list(sequential.table["run"])
    assert ((packed.table["accuracy"] - sequential.table["accuracy"]).abs() <= 0.1).all()
    jobs = jobs_of([("original", 0)])
    tasks, placed = LocalExecutor(torch.device("cuda:0"))._resident_tasks(jobs, torch.device("cuda:0"), 1 << 34)
    assert placed == sum(s.numel() for s in jobs[0].task.train.sources)
    assert all(s.is_cuda and s.dtype == torch.uint8 for s in tasks[id(jobs[0].task)].train.sources)


@cuda
def test_on_cuda_a_set_too_large_for_the_budget_is_pinned_and_gathered_alike() -> None:
    jobs = jobs_of([("original", 0)])
    cuda0 = torch.device("cuda:0")
    tasks, placed = LocalExecutor(cuda0)._resident_tasks(jobs, cuda0, budget=1)
    pinned = tasks[id(jobs[0].task)].train
    assert placed == 0 and all(s.is_pinned() for s in pinned.sources)
    positions = torch.tensor([5, 0, 70, 3])
    torch.testing.assert_close(pinned.gather(positions, cuda0)[0].cpu(), jobs[0].task.train.gather(positions, CPU)[0])
