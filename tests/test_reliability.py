"""Bad input fails in one line before any work, and no failure becomes a number in a table."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

import freqprobe as fp
from freqprobe.execution import jobs as runs
from freqprobe.ablation.tasks import NULL_CONTROL, build_tasks, samples_digest
from freqprobe.cli import main
from freqprobe.errors import DataError, FreqprobeError, TrainingError
from freqprobe.models.loading import load_model
from freqprobe.training import Recipe
from synthetic import planted_sets

FAST = Recipe(epochs=1, min_steps=4)
TESTS = Path(__file__).parent


def sets(n: int = 40, size: int = 16) -> tuple[fp.ImageSet, fp.ImageSet]:
    real, fake = planted_sets(n, size, 0.25, 0.25, 0.1)
    return fp.ImageSet(real), fp.ImageSet(fake)


def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text, text
    return text


def npz_claiming(path: Path, shape: tuple[int, ...], fortran: bool = False) -> Path:
    """An ``.npz`` whose ``arr_0`` header claims ``shape`` but holds 100 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": fortran, "shape": shape})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("arr_0.npy", header.getvalue() + bytes(100))
    return path


# --- tracebacks instead of one line -------------------------------------------------------


@pytest.mark.parametrize("fortran", [False, True])
@pytest.mark.parametrize("count", [10**12, 1000])
def test_an_npz_header_claiming_more_than_the_file_holds_is_one_line(tmp_path, count, fortran) -> None:
    path = npz_claiming(tmp_path / "claims.npz", (count, 64, 64, 3), fortran)
    with pytest.raises(DataError, match="claims shape .* but the file holds 100 bytes"):
        fp.load_images(path)


def test_a_set_larger_than_the_memory_available_is_refused_before_allocating(monkeypatch) -> None:
    monkeypatch.setattr("freqprobe.data.memory.available_memory", lambda: 1000)
    monkeypatch.setattr(np, "empty", lambda *a, **k: pytest.fail("allocated anyway"))
    with pytest.raises(DataError, match="need .* GiB of memory") as error:
        fp.load_images(np.zeros((2, 32, 32, 3), dtype=np.uint8))
    one_line(error)


def test_a_cache_that_is_a_file_or_under_one_is_one_line(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    for cache in (blocker, blocker / "sub"):
        with pytest.raises(FreqprobeError, match="is a file|not a folder"):
            fp.load_images(npz_of(tmp_path, 4), cache=cache)


def npz_of(folder: Path, n: int) -> Path:
    path = folder / "set.npz"
    np.savez(path, arr_0=np.zeros((n, 16, 16, 3), dtype=np.uint8))
    return path


def test_a_weights_file_refused_by_safe_loading_is_one_line_that_says_what_to_do(tmp_path) -> None:
    torch.save(nn.Linear(2, 2), tmp_path / "whole.pt")  # a pickled module, not a state dict
    with pytest.raises(FreqprobeError, match="torch.nn.modules.linear.Linear.*state_dict") as error:
        load_model("synthetic:tiny_net_2", tmp_path / "whole.pt")
    one_line(error)
    (tmp_path / "junk.pt").write_bytes(b"not a pickle")
    with pytest.raises(FreqprobeError, match="not a weights file") as error:
        load_model("synthetic:tiny_net_2", tmp_path / "junk.pt")
    one_line(error)


@pytest.fixture
def labelled(tmp_path) -> Path:
    for k, name in enumerate(("bird", "cat")):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((16, 16, 3), 60 + 100 * k, dtype=np.uint8)).save(tmp_path / "data" / name / f"{i}.png")
    return tmp_path / "data"


class FirstRowOnly(nn.Module):
    """Scores for the first image of every batch only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([x.mean(dim=(1, 2, 3)), -x.mean(dim=(1, 2, 3))], dim=1)[:1]


class RowsOnlyInBatchesOfTwo(nn.Module):
    """Right on the two-image check, wrong on any other batch size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(2, 2)


@pytest.mark.parametrize("model", [FirstRowOnly(), RowsOnlyInBatchesOfTwo()])
def test_a_probed_model_returning_a_batch_of_the_wrong_length_is_one_line(labelled, model) -> None:
    with pytest.raises(FreqprobeError, match="rows of scores for a batch of .* one row per image") as error:
        fp.probe(model, labelled, distortions=["contrast"], device="cpu")
    one_line(error)


# --- late failures: output locations first ---------------------------------------------------


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in (``/sys`` when running as root)."""
    if os.geteuid() == 0:
        if os.access("/sys", os.W_OK) and Path("/sys").is_dir():
            try:
                (Path("/sys") / ".freqprobe-probe").touch()
            except OSError:
                return Path("/sys") / "freqprobe-out"
        pytest.skip("no unwritable folder for root here")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked / "out"


def test_ablate_checks_its_out_folder_before_loading_or_training(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(runs, "train_classifier", lambda *a, **k: pytest.fail("trained before the out check"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    real, fake = sets()
    for out in (blocker / "study", unwritable_folder(tmp_path)):
        with pytest.raises(FreqprobeError, match="out ") as error:
            fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, out=out)
        one_line(error)


COMMANDS_WITH_OUT = [
    ["ablate", "--real", "missing", "--fake", "missing"],
    ["spectrum", "--real", "missing", "--fake", "missing"],
    ["attribute", "--real", "missing", "--fake", "missing"],
    ["probe", "--model", "missing.pt", "--data", "missing", "--distortions", "contrast"],
    ["consistency", "missing.csv"],
    ["demo", "--n", "0"],
    ["compare", "--set", "missing", "--set", "missing"],
    ["drift", "--real", "missing", "--generation", "missing"],
    ["augment", "--real", "missing", "--generated", "missing", "--test", "missing"],
]


@pytest.mark.parametrize("argv", COMMANDS_WITH_OUT, ids=lambda argv: argv[0])
def test_every_command_checks_out_before_reading_its_inputs(argv, tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    for out in (blocker / "run", unwritable_folder(tmp_path)):
        assert main([*argv, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and f"--out {out}" in err, err  # the out folder, not the missing inputs


def test_a_study_file_checks_its_out_and_figures_folders_before_any_work(tmp_path, monkeypatch) -> None:
    from freqprobe.experiments.studies import run_study

    monkeypatch.setattr("freqprobe.data.demo_sets", lambda *a, **k: pytest.fail("sets built before the check"))
    (tmp_path / "file").write_text("")
    study = 'out = "file/run"\n[sets]\nreal = {{ demo = "real", n = 40, size = 16 }}\n{}[analyses.spectrum]\nsets = ["real"]\n'
    (tmp_path / "a.toml").write_text(study.format(""))
    with pytest.raises(FreqprobeError, match="out .*file is a file, not a folder"):
        run_study(tmp_path / "a.toml", progress=False)
    (tmp_path / "b.toml").write_text(study.format("").replace('out = "file/run"', 'out = "run"\nfigures = "file/figs"'))
    with pytest.raises(FreqprobeError, match="figures .*file is a file, not a folder"):
        run_study(tmp_path / "b.toml", progress=False)


# --- silent nonsense: non-finite outputs ---------------------------------------------------


def test_a_model_with_nan_outputs_stops_ablate_with_one_line_naming_the_run() -> None:
    real, fake = sets()
    with pytest.raises(TrainingError, match="binary original seed 0 .* not a finite number") as error:
        fp.ablate(real, fake, ["original"], seeds=1, model="synthetic:nan_net", recipe=FAST, progress=False)
    one_line(error)


def test_non_finite_scores_never_become_an_accuracy(monkeypatch) -> None:
    """A model that trains finite but scores NaN (here: NaN put into its test outputs)."""
    real, fake = sets()
    from freqprobe.training import trainer

    def nan_scores(model, data, transform, device, batch_size=512):
        return trainer.predict_proba(NaNModel(), data, transform, device, batch_size)

    monkeypatch.setattr(runs, "predict_proba", nan_scores)
    with pytest.raises(TrainingError, match="NaN or infinite scores for 16 of 16 test images") as error:
        fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, null=False)
    one_line(error)


class NaNModel(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((len(x), 2), float("nan"))


# --- leaks -----------------------------------------------------------------------------------

KILLED_BUILD = """
import sys, time
from freqprobe.data.cache import ImageCache
def fill(array):
    print("filling", flush=True)
    time.sleep(60)
ImageCache(sys.argv[1], "entry").build((64, 3, 64, 64), fill)
"""


def test_a_killed_cache_build_leaves_a_temporary_file_the_next_build_removes(tmp_path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(cache)], stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline().strip() == b"filling"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert len(list(cache.glob("*.tmp"))) == 1  # what the kill left: nothing could clean it up
    images = fp.load_images(npz_of(tmp_path, 4), cache=cache)
    assert len(images) == 4
    assert not list(cache.glob("*.tmp"))


def test_a_live_builds_temporary_file_is_left_alone(tmp_path) -> None:
    from freqprobe.data.cache import _HOST

    cache = tmp_path / "cache"
    cache.mkdir()
    live = cache / f"other.npy.{_HOST}.{os.getpid()}.abc.tmp"  # this process: alive
    live.write_bytes(b"")
    fp.load_images(npz_of(tmp_path, 4), cache=cache)
    assert live.exists()


# --- determinism across thread counts ---------------------------------------------------------


def test_a_study_resumed_under_another_thread_count_warns(tmp_path) -> None:
    real, fake = sets()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        first = fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, null=False, out=tmp_path)
        record = first.store.record(first.table["run"].iloc[0])
        assert record["trained_on"] == "cpu (1 thread)"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the same setting again: silent
            fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, null=False, out=tmp_path)
        torch.set_num_threads(2)
        with pytest.warns(UserWarning, match=r"1 on cpu \(1 thread\); 1 on cpu \(2 threads\)"):
            fp.ablate(real, fake, ["original", "grayscale"], seeds=1, recipe=FAST, progress=False, null=False,
                      out=tmp_path)  # fmt: skip
    finally:
        torch.set_num_threads(threads)


# --- the null control --------------------------------------------------------------------


def test_the_null_control_draws_new_halves_for_every_seed() -> None:
    real, fake = sets(n=60)
    tasks = build_tasks({"real": real, "fake": fake}, 0.2, 0, "auto", False, True, [0, 1, 2])
    null = [task for task in tasks if task.name == NULL_CONTROL]
    assert [task.seed for task in null] == [0, 1, 2]
    assert len({samples_digest(task) for task in null}) == 3
    for task in null:  # each still halves the real set's own split: nothing of the test side is trained
        assert not set(task.train.index.tolist()) & set(task.test.index.tolist())
    again = build_tasks({"real": real, "fake": fake}, 0.2, 0, "auto", False, True, [1])
    assert samples_digest(again[-1]) == samples_digest(null[1])  # a seed's halves are a pure function of it


def test_a_study_scores_its_null_control_once_per_seed_on_its_own_halves() -> None:
    real, fake = sets(n=60)
    result = fp.ablate(real, fake, ["original"], seeds=2, recipe=FAST, progress=False)
    null = result.table[result.table["task"] == NULL_CONTROL]
    assert list(null["seed"]) == [0, 1] and null["run"].nunique() == 2
    assert set(null["variant"]) == {NULL_CONTROL}


def test_an_old_run_folder_with_null_rows_loads_as_real_vs_real(tmp_path) -> None:
    real, fake = sets()
    result = fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, out=tmp_path)
    old = pd.read_csv(tmp_path / "results.csv")
    old.loc[old["task"] == NULL_CONTROL, ["task", "variant"]] = "null"  # as written before the rename
    old.to_csv(tmp_path / "results.csv", index=False)
    loaded = fp.AblationResult.load(tmp_path)
    pd.testing.assert_frame_equal(loaded.table, result.table)


# --- names pandas reads as missing --------------------------------------------------------------


@pytest.mark.parametrize("name", ["NA", "null", "None", "nan", "", "N/A"])
def test_set_names_that_pandas_reads_as_missing_are_refused_before_work(name, monkeypatch) -> None:
    monkeypatch.setattr(runs, "train_classifier", lambda *a, **k: pytest.fail("trained despite the name"))
    real, fake = sets()
    with pytest.raises(FreqprobeError, match="read_csv") as error:
        fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, names=["real", name])
    one_line(error)
    with pytest.raises(FreqprobeError, match="read_csv"):
        fp.spectrum(real, fake, names=["real", name], device="cpu")


def test_a_table_holding_a_missing_value_word_is_never_written(tmp_path) -> None:
    from freqprobe.io import write_table

    with pytest.raises(FreqprobeError, match="column set holds 'NA', which pandas.read_csv"):
        write_table(pd.DataFrame({"set": ["real", "NA"], "x": [1, 2]}), tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()


def test_probe_refuses_observer_and_class_names_pandas_reads_as_missing(labelled, tmp_path) -> None:
    with pytest.raises(FreqprobeError, match="observer name 'NA'"):
        fp.probe({"NA": FirstRowOnly()}, labelled, distortions=["contrast"], device="cpu")
    (labelled / "cat").rename(labelled / "null")
    with pytest.raises(FreqprobeError, match="class 'null'"):
        fp.probe(FirstRowOnly(), labelled, distortions=["contrast"], device="cpu")


def test_a_generated_set_named_like_a_missing_value_gets_a_safe_default_name(tmp_path) -> None:
    real, fake = sets()
    np.savez(tmp_path / "NA.npz", arr_0=fake.images.permute(0, 2, 3, 1).numpy())
    report = fp.spectrum(real, tmp_path / "NA.npz", device="cpu")
    assert report.names == ["real", "set-NA"]


# --- siblings: arguments of the wrong type, user models that fail ---------------------------------


class Raises(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied\n(64x3 and 5x2)")


class NaNScores(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((len(x), 2), float("nan"))


ABLATE_ARGUMENTS = [
    ({"out": 123}, "out must be a folder path"),
    ({"variants": None}, "variants must be"),
    ({"variants": [1]}, "variants must be"),
    ({"test_size": "a"}, "test_size"),
    ({"split_seed": "a"}, "seed must be an int"),
    ({"split_seed": 1.5}, "seed must be an int"),
    ({"recipe": 123}, "recipe must be"),
    ({"recipe": {}}, "at least one recipe"),
    ({"model": Raises()}, "model must be fast, resnet18 or module:factory"),
]


@pytest.mark.parametrize(("arguments", "reason"), ABLATE_ARGUMENTS, ids=lambda a: str(a)[:30])
def test_ablate_arguments_of_the_wrong_type_are_one_line(arguments, reason, monkeypatch) -> None:
    monkeypatch.setattr(runs, "train_classifier", lambda *a, **k: pytest.fail("trained despite bad input"))
    real, fake = sets()
    options = {"variants": ["original"], "seeds": 1, "recipe": FAST, "progress": False, **arguments}
    with pytest.raises(FreqprobeError, match=reason) as error:
        fp.ablate(real, fake, **options)
    one_line(error)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda real, fake, data: fp.spectrum(real, fake, batch_size=1.5), "batch_size must be an int"),
        (lambda real, fake, data: fp.load_images(np.zeros((2, 8, 8, 3), np.uint8), workers=True), "workers"),
        (lambda real, fake, data: fp.probe(FirstRowOnly(), data, seed="x"), "seed must be an int"),
        (lambda real, fake, data: fp.probe(FirstRowOnly(), data, batch_size=0), "batch_size must be an int >= 1"),
        (lambda real, fake, data: fp.probe(Raises(), data, device="cpu"), "fails on a .* mat1 and mat2 .* 5x2"),
        (lambda real, fake, data: fp.attribute(Raises(), real, fake, bands=4, device="cpu"), "fails on .* 5x2"),
        (lambda real, fake, data: fp.attribute(NaNScores(), real, fake, bands=4, device="cpu"), "NaN or infinite"),
        (lambda real, fake, data: fp.transform("blur:1e9"), "sigma=1000000000.0 must be in"),
        (lambda real, fake, data: fp.transform("noise:inf"), "std=inf must be a finite number"),
    ],
    ids=["spectrum-batch", "workers", "probe-seed", "probe-batch", "probe-raises", "attribute-raises", "attribute-nan",
         "blur", "noise"],
)  # fmt: skip
def test_other_bad_arguments_and_failing_models_are_one_line(call, reason, labelled) -> None:
    real, fake = sets()
    with pytest.raises(FreqprobeError, match=reason) as error:
        call(real, fake, labelled)
    one_line(error)


def test_attribution_stops_on_a_model_whose_outputs_turn_nan_on_some_images() -> None:
    class NaNOnBright(nn.Module):  # finite on the two-image check, NaN on bright images
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mean = x.mean(dim=(1, 2, 3))
            out = torch.stack([mean, -mean], dim=1)
            return torch.where((mean > 0.5)[:, None], torch.full_like(out, float("nan")), out)

    real, fake = sets()
    fake = fp.ImageSet(torch.cat([fake.images[:2] // 4, fake.images[2:] // 2 + 128]))
    real = fp.ImageSet(real.images // 4)
    with pytest.raises(FreqprobeError, match="band attributions are NaN or infinite for") as error:
        fp.attribute(NaNOnBright(), real, fake, bands=4, methods=["ablation"], pixel_methods=[], n_images=8,
                     device="cpu")  # fmt: skip
    one_line(error)


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["ablate", "--real", "missing", "--fake", "missing", "--variants", "lowpass:9"], "cutoff=9.0 is outside"),
        (["ablate", "--real", "missing", "--fake", "missing", "--seeds", "0"], "--seeds must be >= 1"),
        (["ablate", "--real", "missing", "--fake", "missing", "--test-size", "1.5"], "--test-size must lie in"),
        (["spectrum", "--real", "missing", "--fake", "missing", "--min-score", "nan"], "must be a finite number"),
        (["spectrum", "--real", "missing", "--fake", "missing", "--max-peaks", "0"], "max-peaks 0"),
        (["probe", "--model", "synthetic:tiny_net_2", "--data", "missing", "--distortions", "zzz"], "zzz"),
    ],
    ids=["ablate-variant", "ablate-seeds", "ablate-test-size", "spectrum-score", "spectrum-peaks", "probe-distortion"],
)
def test_bad_options_fail_before_the_images_are_read(argv, reason, tmp_path, capsys) -> None:
    """The inputs do not exist: an error about the option proves it was checked first."""
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and reason in err, err


def test_demo_with_bad_seeds_writes_nothing(tmp_path) -> None:
    assert main(["demo", "--seeds", "0", "--n", "40", "--size", "16", "--out", str(tmp_path / "demo")]) == 2
    assert not (tmp_path / "demo").exists()


def test_a_tiny_training_set_never_gets_batches_of_one_image() -> None:
    """8 training images used to give batches of 1, which BatchNorm refuses with a traceback."""
    assert Recipe().schedule(8)[0] == 2
    with pytest.raises(FreqprobeError, match="batch_size >= 2"):
        Recipe(batch_size=1)
    real, fake = sets(n=8)
    result = fp.ablate(real, fake, ["original"], seeds=1, recipe=FAST, progress=False, null=False)
    assert result.table["n_train"].iloc[0] < 16  # n_train // 8 < 2
