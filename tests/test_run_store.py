"""The run store's safety: atomic writes, one writer per folder, damaged runs recomputed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import freqprobe as fp
from freqprobe import io
from freqprobe.ablation import runs
from freqprobe.execution import jobs
from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.training import Recipe

from synthetic import planted_sets

FAST = Recipe(epochs=1, min_steps=20)
ROOT = Path(__file__).resolve().parents[1]


def small_sets(n: int = 48) -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(n, 32, 0.3, 0.4, 0.06)
    return fp.ImageSet(real, origin="real"), fp.ImageSet(fake, origin="fake")


def study(out: Path, **kwargs) -> fp.AblationResult:
    real, fake = small_sets()
    return fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, out=out, progress=False, **kwargs)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open files through /proc (Linux)")
def test_atomic_writes_sync_the_file_and_its_folder_before_and_after_the_rename(tmp_path: Path, monkeypatch) -> None:
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(io.os, "fsync", fsync)
    monkeypatch.setattr(io.os, "replace", lambda a, b: events.append(("replace", str(b))) or real_replace(a, b))
    with io.atomic_path(tmp_path / "table.csv") as partial:
        partial.write_text("a\n1\n")
    (kind0, first), (kind1, target), (kind2, folder) = events
    assert (kind0, kind1, kind2) == ("fsync", "replace", "fsync")
    assert Path(first).name.endswith(".partial") and Path(first).parent == tmp_path
    assert target == str(tmp_path / "table.csv") and folder == str(tmp_path)
    assert (tmp_path / "table.csv").read_text() == "a\n1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]  # no temporary file left


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path: Path) -> None:
    errors, barrier = [], threading.Barrier(2)

    def write(text: str) -> None:
        try:
            with io.atomic_path(tmp_path / "record.json") as partial:
                partial.write_text(text)
                barrier.wait()  # both temporary files exist at once
        except Exception as err:  # noqa: BLE001 - any failure fails the test below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(text,)) for text in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (tmp_path / "record.json").read_text() in ("first", "second")
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def hold_lock(folder: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds ``folder``'s lock for ``seconds`` (returns once it holds it)."""
    code = textwrap.dedent(f"""
        import time
        from freqprobe.io import folder_lock
        with folder_lock({str(folder)!r}):
            print("locked", flush=True)
            time.sleep({seconds})
            print("letting go", flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_folder_is_refused_in_one_line_or_waited_for(tmp_path: Path, caplog) -> None:
    holder = hold_lock(tmp_path, 1.5)
    with pytest.raises(FreqprobeError, match=rf"process {holder.pid}\) is writing there") as refused:
        with io.folder_lock(tmp_path, wait=False):
            pass
    assert "\n" not in str(refused.value)
    start = time.perf_counter()
    with io.folder_lock(tmp_path):
        assert holder.stdout.readline().strip() == "letting go"  # not entered before the holder let go
        assert "waiting for it to finish" in caplog.text  # said while waiting, not after
    assert time.perf_counter() - start > 0.5
    holder.wait()
    holder.stdout.close()


def test_a_killed_writer_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 60)
    holder.kill()
    holder.wait()
    holder.stdout.close()
    with io.folder_lock(tmp_path, wait=False):
        pass


def test_a_second_study_into_a_busy_folder_waits_and_reuses_the_first_studys_runs(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    first_table = study(tmp_path / "single").table
    out = tmp_path / "shared"
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        from freqprobe.io import folder_lock
        import test_run_store
        with folder_lock({str(out)!r}):  # the lock taken before the study, so the test knows it is held
            print("locked", flush=True)
            test_run_store.study(test_run_store.Path({str(out)!r}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert other.stdout.readline().strip() == "locked"
    calls = []
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: calls.append(1))
    second = study(out)
    assert "another study" in caplog.text
    assert other.wait() == 0
    other.stdout.close()
    assert calls == []  # nothing trained twice: every run came from the first study
    pd.testing.assert_frame_equal(second.table, first_table)
    pd.testing.assert_frame_equal(fp.AblationResult.load(out).table, first_table, check_dtype=False)


@pytest.mark.parametrize("damage", ["truncated weights", "malformed record"])
def test_a_damaged_stored_run_is_recomputed_with_a_warning(tmp_path: Path, damage: str) -> None:
    first = study(tmp_path)
    key = first.table["run"].iloc[0]
    path = tmp_path / "runs" / (f"{key}.pt" if damage == "truncated weights" else f"{key}.json")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.warns(UserWarning, match=rf"{key}\.(pt|json): damaged .* counts as unfinished"):
        second = study(tmp_path)
    pd.testing.assert_frame_equal(second.table, first.table)
    assert runs.RunStore(tmp_path).record(key) is not None  # stored whole again


@pytest.mark.parametrize("command", ["attribute", "probe"])
def test_a_damaged_study_model_is_one_line_from_the_command_line(tmp_path: Path, command: str, capsys) -> None:
    result = study(tmp_path / "study", null=False)
    key = result.table["run"].iloc[0]
    weights = tmp_path / "study" / "runs" / f"{key}.pt"
    weights.write_bytes(weights.read_bytes()[:100])
    for name, images in zip(("real", "fake"), small_sets()):
        io.write_samples_npz(images.numpy(), tmp_path / f"{name}.npz")
    with pytest.raises(FreqprobeError, match="damaged weights .*run the study's ablate command again"):
        result.model("original")
    argv = {
        "attribute": ["attribute", "--model", str(tmp_path / "study"), "--real", str(tmp_path / "real.npz"),
                      "--fake", str(tmp_path / "fake.npz")],
        "probe": ["probe", "--model", str(tmp_path / "study"), "--data", str(tmp_path)],
    }[command]
    code = main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "damaged weights" in err, err


def test_a_killed_driver_is_resumed_by_the_same_study_and_its_orphaned_temporary_files_removed(
    tmp_path: Path, monkeypatch
) -> None:
    reference = study(tmp_path / "single").table
    out = tmp_path / "killed"
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        import test_run_store
        test_run_store.study(test_run_store.Path({str(out)!r}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    driver = subprocess.Popen([sys.executable, "-c", code], env=env)
    while not list((out / "runs").glob("*.json")) and driver.poll() is None:
        time.sleep(0.05)
    driver.kill()  # SIGKILL: no cleanup of any kind
    driver.wait()
    orphan = out / "runs" / f".x.pt.{driver.pid}-0123abcd.partial"  # as a write cut short leaves it
    orphan.write_bytes(b"half")
    live = out / "runs" / f".y.pt.{os.getpid()}-0123abcd.partial"  # a live writer's: kept
    live.write_bytes(b"busy")
    stored = len(list((out / "runs").glob("*.json")))
    calls = []
    original = jobs.train_classifier
    monkeypatch.setattr(jobs, "train_classifier", lambda *a, **k: calls.append(1) or original(*a, **k))
    resumed = study(out)
    assert len(calls) == len(reference) - stored  # only the runs the killed driver had not stored
    pd.testing.assert_frame_equal(resumed.table, reference)
    assert not orphan.exists() and live.exists()


def test_a_stored_runs_weights_read_its_record_once(tmp_path: Path, monkeypatch) -> None:
    from freqprobe.ablation.runs import RunStore

    key = study(tmp_path).table["run"].iloc[0]
    reads = []
    original = RunStore._read
    monkeypatch.setattr(RunStore, "_read", lambda self, *a: reads.append(a) or original(self, *a))
    store = RunStore(tmp_path)
    assert store.weights(key) and store.record(key)["key"] == key
    assert len(reads) == 1  # the record and its weights' checksum, read once and kept
