"""Grids on a real local Ray (one instance per test session, ``conftest.ray_session``):
the same tables as in process, a killed worker retried, Ray missing said in one line."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.cli import main
from freqprobe.io import write_samples_npz
from freqprobe.training import get_recipe

from synthetic import planted_sets

RECIPE = dataclasses.replace(get_recipe("whitened"), epochs=1)  # what `--recipe whitened --epochs 1` gives
VARIANTS = ["original", "lowpass:0.2", "highpass:0.2"]
#: Sharded spectra against one machine's, both at one torch thread as a worker has (float32
#: sums differ between thread counts in about the 7th digit: docs/reliability.md): the shards'
#: float64 sums reduce to the same numbers.
RTOL, ATOL = 1e-10, 1e-12


@contextlib.contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> tuple[Path, Path]:
    """Two .npz sets of 120 images of 32 px (a sinusoid planted in the fakes)."""
    folder = tmp_path_factory.mktemp("sets")
    real, fake = planted_sets(120, 32, 0.3, 0.4, 0.06)
    for name, images in (("real", real), ("fake", fake)):
        write_samples_npz(images.permute(0, 2, 3, 1).numpy(), folder / f"{name}.npz")
    return folder / "real.npz", folder / "fake.npz"


def one_thread_study(sets, out: Path, variants=VARIANTS, recipe=RECIPE, **kwargs) -> fp.AblationResult:
    """3 variants x 2 seeds + the null control, with one torch thread as a Ray worker has."""
    with one_thread():
        return fp.ablate(*sets, variants, seeds=2, recipe=recipe, out=out, device="cpu", progress=False, **kwargs)


@pytest.fixture(scope="module")
def local_study(sets, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("local")
    one_thread_study(sets, out)
    return pd.read_csv(out / "results.csv")


def test_a_study_on_ray_from_the_command_line_writes_the_local_table(ray_session, sets, local_study, tmp_path,
                                                                     capsys) -> None:  # fmt: skip
    argv = ["ablate", "--real", str(sets[0]), "--fake", str(sets[1]), "--variants", *VARIANTS, "--seeds", "2",
            "--recipe", "whitened", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path), "--ray"]  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the driver's: the runs train on the workers, at one thread
    try:
        assert main(argv) == 0, capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)
    trained_on = {json.loads(path.read_text())["trained_on"] for path in (tmp_path / "runs").glob("*.json")}
    assert trained_on == {"cpu (1 thread)"}  # recorded where the run trained
    on_ray = pd.read_csv(tmp_path / "results.csv")
    assert len(on_ray) == 8 and on_ray["run"].nunique() == 8
    pd.testing.assert_frame_equal(on_ray, local_study)  # the same run keys, the same numbers


def test_packed_runs_on_ray_give_the_local_table(ray_session, sets, local_study, tmp_path) -> None:
    from freqprobe.execution.ray_executor import RayExecutor

    one_thread_study(sets, tmp_path, executor=RayExecutor("cpu", pack=True))  # a GPU cluster's default, on CPUs
    packed = pd.read_csv(tmp_path / "results.csv")
    assert list(packed["run"]) == list(local_study["run"])
    # a packed model equals the model trained alone (tests/test_packed.py); a float tie may flip one test image
    assert ((packed["accuracy"] - local_study["accuracy"]).abs() <= 1 / local_study["n_test"]).all()
    exact = [c for c in local_study.columns if c not in ("accuracy", "ci_low", "ci_high", "p_value", "auc")]
    pd.testing.assert_frame_equal(packed[exact], local_study[exact])


def kill_a_running_run(address: str, killed: list[str], stop: threading.Event) -> None:
    """Kill (SIGKILL) the worker process of the first run the Ray at ``address`` reports running."""
    from ray.util.state import list_tasks

    while not stop.is_set() and not killed:
        try:
            running = list_tasks(address, filters=[("func_or_class_name", "=", "run_remote"), ("state", "=", "RUNNING")],
                                 raise_on_missing_output=False)  # fmt: skip
        except Exception:  # the state API may lag behind the first tasks
            running = []
        for task in running:
            if task.worker_pid:
                os.kill(task.worker_pid, signal.SIGKILL)
                killed.append(task.task_id)
                return
        stop.wait(0.1)


def test_a_worker_killed_mid_run_is_retried_and_the_table_is_the_same(ray_session, sets, tmp_path) -> None:
    # runs of a few seconds (the state API learns of a running task with a delay), two of them
    slow = {"variants": ["original"], "recipe": dataclasses.replace(RECIPE, min_steps=600), "null": False}
    local = one_thread_study(sets, tmp_path / "local", **slow).table
    killed, stop = [], threading.Event()
    address = ray_session.get_runtime_context().gcs_address  # this session's Ray: others may run beside it
    killer = threading.Thread(target=kill_a_running_run, args=(address, killed, stop))
    killer.start()
    try:
        one_thread_study(sets, tmp_path / "ray", executor="ray", **slow)
    finally:
        stop.set()
        killer.join()
    assert killed, "no run was seen running"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ray" / "results.csv"), local)
    assert retried(address), "no run was retried after its worker died"


def retried(address: str, seconds: float = 20) -> bool:
    """Whether Ray reports a run whose attempt died with its worker and whose next attempt
    finished (the state API learns of task events with a delay; the killed process may by
    then have moved on from the run it was reported running, so any run counts)."""
    from ray.util.state import list_tasks

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        attempts = {}
        for t in list_tasks(address, filters=[("func_or_class_name", "=", "run_remote")], limit=1000,
                            raise_on_missing_output=False):  # fmt: skip
            attempts.setdefault(t.task_id, {})[t.attempt_number] = (t.state, t.error_type)
        for runs in attempts.values():
            died = [n for n, (state, error) in runs.items() if state == "FAILED" and error == "WORKER_DIED"]
            if any(runs.get(n + 1, ("",))[0] == "FINISHED" for n in died):
                return True
        time.sleep(0.5)
    return False


def scorer(seed: int) -> nn.Module:
    """A fixed random 2-class scorer, built of torch's own modules (a worker imports no test module)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 5, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 2))  # fmt: skip


def test_a_probe_grid_on_ray_equals_the_local_probe(ray_session) -> None:
    real, fake = planted_sets(24, 32, 0.3, 0.4, 0.06)
    data = (torch.cat([real, fake]), [0] * 24 + [1] * 24, ["real", "fake"])
    models = {"a": scorer(0), "b": scorer(1)}
    distortions = ["uniform-noise:0.3,0.9", "lowpass:0.1", "contrast:100,10"]  # the noise draws per image index
    local = fp.probe(models, data, distortions=distortions, batch_size=10, device="cpu")
    on_ray = fp.probe(models, data, distortions=distortions, batch_size=10, device="cpu", executor="ray")
    assert len(local.trials) == 2 * (1 + 5) * 48  # the undistorted images are always probed too
    pd.testing.assert_frame_equal(on_ray.trials, local.trials)
    pd.testing.assert_frame_equal(on_ray.curves, local.curves)


def test_a_sharded_spectrum_equals_the_one_machine_spectrum(ray_session, sets) -> None:
    with one_thread():
        local = fp.spectrum(*sets, batch_size=16, device="cpu")
    sharded = fp.spectrum(*sets, batch_size=16, device="cpu", executor="ray")  # 120 images: 4 shards of 32
    for name in ("radial", "comparison", "angular", "subbands", "dct"):
        left, right = getattr(local, name), getattr(sharded, name)
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=RTOL, atol=ATOL)
    pd.testing.assert_frame_equal(local.peaks, sharded.peaks, check_exact=False, rtol=RTOL)
    assert len(local.peaks) > 0  # the planted peak is found by both
    for key, value in local.maps.items():
        if value.dtype.kind == "f":
            np.testing.assert_allclose(sharded.maps[key], value, rtol=RTOL, atol=ATOL, err_msg=key)
        else:
            np.testing.assert_array_equal(sharded.maps[key], value)


def test_the_spectrum_command_on_ray_writes_the_local_tables(ray_session, sets, tmp_path) -> None:
    for name, extra in (("local", []), ("ray", ["--ray"])):
        argv = ["spectrum", "--real", str(sets[0]), "--fake", str(sets[1]), "--batch-size", "16", "--device", "cpu"]
        with one_thread():
            assert main([*argv, "--out", str(tmp_path / name), *extra]) == 0
    for table in ("radial", "peaks", "comparison", "dct"):
        local, on_ray = (pd.read_csv(tmp_path / name / f"{table}.csv") for name in ("local", "ray"))
        pd.testing.assert_frame_equal(on_ray, local, check_exact=False, rtol=RTOL, atol=ATOL)


def test_a_cuda_study_on_a_cluster_without_gpus_is_refused_in_one_line(ray_session, sets, tmp_path) -> None:
    with pytest.raises(fp.errors.FreqprobeError, match="the Ray cluster has no GPU") as refused:
        fp.ablate(*sets, ["original"], seeds=1, out=tmp_path, device="cuda", executor="ray", progress=False)
    assert "\n" not in str(refused.value) and not (tmp_path / "runs").exists()


def test_without_ray_the_ray_option_says_how_to_install_it_in_one_line(sets, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as where it is not installed
    for command in (["spectrum", "--real", str(sets[0]), "--fake", str(sets[1])],
                    ["ablate", "--real", str(sets[0]), "--fake", str(sets[1])]):  # fmt: skip
        assert main([*command, "--out", str(tmp_path / command[0]), "--ray"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "pip install 'freqprobe[ray]'" in err, err
    assert not (tmp_path / "ablate" / "runs").exists()  # refused before any work
