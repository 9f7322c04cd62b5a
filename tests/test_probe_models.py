"""Loading a user's classifier (``load_model``) and any classifier at all (``resolve_model``)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd

import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.ablation.trained import resolve_model
from freqprobe.errors import FreqprobeError
from freqprobe.models.loading import CallableModel, load_model
from freqprobe.probe.run import load_observer
from freqprobe.training import Recipe

X = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def small_net() -> nn.Module:
    """A ``module:factory`` model (``test_probe_models:small_net``)."""
    torch.manual_seed(1)
    layers = (nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 2))
    return nn.Sequential(*layers)


def not_a_module() -> str:
    return "a string"


def failing() -> nn.Module:
    raise RuntimeError("no such network")


@pytest.fixture
def trained() -> nn.Module:
    torch.manual_seed(7)  # weights that differ from small_net()'s
    return small_net().apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)


def test_a_module_comes_back_itself_in_eval_mode(trained) -> None:
    trained.train()
    model = load_model(trained)
    assert model is trained and not model.training
    assert torch.equal(model(X), model(X))  # dropout off


def test_a_callable_becomes_a_parameter_free_module() -> None:
    model = load_model(lambda x: x.mean(dim=(2, 3)))
    assert isinstance(model, CallableModel) and not list(model.parameters())
    assert torch.equal(model(X), X.mean(dim=(2, 3)))


@pytest.mark.parametrize("layout", ["state_dict", "checkpoint"])
def test_module_factory_with_weights_reproduces_the_trained_model(trained, tmp_path, layout: str) -> None:
    state = trained.state_dict()
    torch.save(state if layout == "state_dict" else {"state_dict": state, "epoch": 3}, tmp_path / "w.pt")
    model = load_model("test_probe_models:small_net", tmp_path / "w.pt")
    assert torch.equal(model(X), trained.eval()(X))
    assert not torch.equal(model(X), small_net().eval()(X))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_torchscript_file_loads_and_gives_the_same_outputs(trained, tmp_path) -> None:
    torch.jit.script(trained.eval()).save(str(tmp_path / "net.ts"))
    assert torch.equal(load_model(tmp_path / "net.ts")(X), trained(X))


class Payload:
    def __reduce__(self):
        return (print, ("unpickled!",))


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(pickle.dumps(Payload(), protocol=2)), "refused by safe loading .* not only tensors; save a state dict"),
    (lambda p: torch.save({"other": torch.zeros(2)}, p), "weights do not fit the model"),
    (lambda p: torch.save([torch.zeros(2)], p), "expected a state dict, found list"),
])  # fmt: skip
def test_weights_that_are_unsafe_or_do_not_fit_are_refused(tmp_path, capsys, make, message: str) -> None:
    make(tmp_path / "w.pt")
    with pytest.raises(FreqprobeError, match=message):
        load_model("test_probe_models:small_net", tmp_path / "w.pt")
    assert "unpickled!" not in capsys.readouterr().out


@pytest.mark.parametrize(("source", "message"), [
    ("no_such_module:net", "cannot import net from no_such_module"),
    ("test_probe_models:nothing", "cannot import nothing from test_probe_models"),
    ("test_probe_models:failing", "failing\\(\\) failed: no such network"),
    ("test_probe_models:not_a_module", "the factory returned str, not an nn.Module"),
    ("missing.pt", "not a file, an nn.Module, a callable or module:factory"),
])  # fmt: skip
def test_bad_model_sources_are_one_line_errors(source: str, message: str) -> None:
    with pytest.raises(FreqprobeError, match=message):
        load_model(source)


def test_files_that_are_not_torchscript_are_refused(trained, tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FreqprobeError, match="not a TorchScript file \\(give a state dict"):
        load_model(tmp_path / "notes.txt")
    torch.save(trained.state_dict(), tmp_path / "state.pt")  # a zip, but no TorchScript
    with pytest.raises(FreqprobeError, match="not a TorchScript file .*a state dict goes with module:factory"):
        load_model(tmp_path / "state.pt")
    with pytest.raises(FreqprobeError, match="weights file not found"):
        load_model("test_probe_models:small_net", tmp_path / "absent.pt")


def test_resolve_model_takes_an_ablate_run_folder_or_its_result(tmp_path) -> None:
    real, fake = fp.demo_sets(n=48, size=32, seed=0)
    result = fp.ablate(real, fake, ["original"], seeds=1, out=tmp_path / "run", recipe=Recipe(epochs=1, min_steps=20),
                       null=False, progress=False, device="cpu")  # fmt: skip
    from_folder = resolve_model(tmp_path / "run", device="cpu")
    from_result = resolve_model(result, device="cpu")
    x = real.float("cpu")
    assert torch.equal(from_folder(x), from_result(x)) and not from_folder.training
    assert from_folder(x).shape == (48, 2)
    with pytest.raises(FreqprobeError, match="no model trained on 'lowpass:0.1'"):
        resolve_model(tmp_path / "run", variant="lowpass:0.1")


def test_resolve_model_moves_a_loaded_model_to_the_device(trained) -> None:
    model = resolve_model(trained, device="cpu")
    assert next(model.parameters()).device.type == "cpu" and not model.training


HIGH = "highpass:0.2,window=gaussian"  # not idempotent: a variant applied twice would show


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A tiny ``fp.ablate`` study (classes real, fake: real first) and a data folder of its
    images, whose sorted sub-folders (fake, real) put the classes the other way round."""
    from PIL import Image

    root = tmp_path_factory.mktemp("study")
    real, fake = fp.demo_sets(n=48, size=32, seed=0)
    result = fp.ablate(real, fake, ["original", HIGH], seeds=1, out=root / "run", names=["real", "fake"],
                       recipe=Recipe(epochs=1, min_steps=20), null=False, progress=False, device="cpu")  # fmt: skip
    for name, images in (("real", real), ("fake", fake)):
        (root / "data" / name).mkdir(parents=True)
        for k in range(len(images)):
            Image.fromarray(images.images[k].permute(1, 2, 0).numpy()).save(root / "data" / name / f"{k:02d}.png")
    return result, root


def test_a_study_model_brings_its_classes_and_the_data_folders_are_matched_by_name(study) -> None:
    from freqprobe.probe.run import load_observer

    result, root = study
    model = load_observer(root / "run", device="cpu")
    assert model.class_names == ("real", "fake")
    images = fp.load_images(root / "data")  # names fake/.., real/..: sorted, fake comes first
    expected = np.array(["real", "fake"])[model(images.float("cpu")).argmax(dim=1).numpy()]
    for source in (root / "run", result):
        report = fp.probe(source, root / "data", device="cpu")
        trials = report.trials.set_index("imagename").loc[images.names]
        assert list(trials["object_response"]) == list(expected)
        truth = np.array([name.split("/")[0] for name in images.names])
        assert report.curves["accuracy"].iloc[0] == pytest.approx((expected == truth).mean())
        assert report.curves["accuracy"].iloc[0] > 0.7  # swapped classes would score about 1 - 0.9


def test_study_classes_that_do_not_fit_the_data_or_the_class_names_are_one_line_errors(study, tmp_path,
                                                                                       capsys) -> None:
    from freqprobe.cli import main

    _, root = study
    with pytest.raises(FreqprobeError, match="classes of model run do not cover the data's class 'generated' "
                                             "\\(real, fake\\); name the data's class folders after them"):  # fmt: skip
        images = fp.load_images(root / "data")
        labels = [0 if name.startswith("real/") else 1 for name in images.names]
        fp.probe(root / "run", (images, labels, ["real", "generated"]), device="cpu")
    with pytest.raises(FreqprobeError, match="has outputs for classes real, fake \\(in this order\\), but class_names"):
        fp.probe(root / "run", root / "data", class_names=["fake", "real"], device="cpu")
    code = main(["probe", "--model", str(root / "run"), "--data", str(root / "data"), "--device", "cpu",
                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0 and pd.read_csv(tmp_path / "out" / "curves.csv")["accuracy"].iloc[0] > 0.7
    code = main(["probe", "--model", str(root / "run"), "--weights", str(root / "w.pt"), "--data",
                 str(root / "data"), "--out", str(tmp_path / "out2")])  # fmt: skip
    assert code == 2 and "weights= goes with a module:factory model; a study loads its own" in capsys.readouterr().err


def test_a_study_model_trained_on_a_variant_reads_its_images_through_it(study, tmp_path, capsys) -> None:
    from freqprobe.cli import main

    _, root = study
    net, high = fp.AblationResult.load(root / "run").model(HIGH), fp.transform(HIGH)
    observer = load_observer(root / "run", variant="highpass:.2,window=gaussian")  # any spelling of the spec
    x = fp.load_images(root / "data")[:8].float("cpu")
    with torch.no_grad():
        torch.testing.assert_close(observer(x), net(high(x)))
        assert not torch.allclose(observer(x), net(x), atol=1e-3)  # the filter does reach the model
        assert not torch.allclose(observer(x), net(high(high(x))), atol=1e-3)  # and only once (Gaussian: (1-G)^2)
    report = fp.probe(root / "run", root / "data", variant=HIGH, distortions=["lowpass:0.2"], device="cpu")
    # by hand: the study's high-pass model on images high-passed by the caller (after the distortion)
    by_hand = fp.probe({"run": lambda x: net(high(x))}, root / "data", class_names=["real", "fake"],
                       distortions=["lowpass:0.2"], device="cpu")  # fmt: skip
    pd.testing.assert_frame_equal(report.trials, by_hand.trials)
    assert report.settings["variant"] == HIGH
    code = main(["probe", "--model", str(root / "run"), "--model", str(root / "run"), "--variant", "original",
                 "--variant", HIGH, "--name", "plain", "--name", "high", "--data", str(root / "data"),
                 "--device", "cpu", "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert settings["variant"] == {"plain": "original", "high": HIGH}
    code = main(["probe", "--model", str(root / "run"), "--variant", "original", "--variant", HIGH,
                 "--data", str(root / "data"), "--out", str(tmp_path / "out2")])  # fmt: skip
    assert code == 2 and "2 --variant for 1 --model" in capsys.readouterr().err


def test_a_random_variant_draws_per_image_whatever_the_batch_size() -> None:
    torch.manual_seed(0)
    images, labels = torch.rand(24, 3, 8, 8), [k % 2 for k in range(24)]
    weights = torch.randn(3 * 8 * 8)
    linear = lambda x: torch.stack([x.flatten(1) @ weights, -(x.flatten(1) @ weights)], dim=1)  # noqa: E731
    runs = [fp.probe(linear, (images, labels, ["a", "b"]), variant="noise:0.5,seed=1", batch_size=b, device="cpu")
            for b in (4, 24)]  # fmt: skip
    pd.testing.assert_frame_equal(runs[0].trials, runs[1].trials)
    # by hand: the noise of each image's own index
    noisy = fp.transform("noise:0.5,seed=1")(images, torch.arange(24))
    expected = np.where((noisy.flatten(1) @ weights).numpy() > 0, "a", "b")
    assert runs[0].trials["object_response"].tolist() == expected.tolist()


def test_user_class_names_name_the_outputs_of_other_models() -> None:
    images = torch.rand(4, 3, 8, 8)
    says_first = lambda x: torch.tensor([[1.0, 0.0]]).repeat(len(x), 1)  # noqa: E731
    report = fp.probe(says_first, (images, ["real", "real", "fake", "fake"], ["fake", "real"]),
                      class_names=["real", "fake"], device="cpu")  # fmt: skip
    assert set(report.trials["object_response"]) == {"real"} and report.curves["accuracy"].iloc[0] == 0.5


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_weights_with_anything_but_module_factory_are_refused(trained, tmp_path, capsys) -> None:
    from freqprobe.cli import main

    torch.jit.script(trained.eval()).save(str(tmp_path / "net.ts"))
    torch.save(trained.state_dict(), tmp_path / "w.pt")
    with pytest.raises(FreqprobeError, match="weights= goes with a module:factory model; .*net.ts is a TorchScript"):
        load_model(tmp_path / "net.ts", tmp_path / "w.pt")
    with pytest.raises(FreqprobeError, match="weights= goes with a module:factory model; this model is a callable"):
        load_model(lambda x: x[:, :2, 0, 0], tmp_path / "w.pt")
    (tmp_path / "data" / "a").mkdir(parents=True)
    code = main(["probe", "--model", str(tmp_path / "net.ts"), "--weights", str(tmp_path / "w.pt"),
                 "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "weights= goes with a module:factory model" in err and len(err.strip().splitlines()) == 1


def test_module_factory_is_found_in_the_working_folder_as_python_m_finds_it(tmp_path, monkeypatch) -> None:
    import os
    import sys

    (tmp_path / "probe_cwd_models.py").write_text(
        "from torch import nn\n\ndef make():\n    return nn.Sequential(nn.Flatten(), nn.Linear(192, 2))\n"
    )
    monkeypatch.chdir(tmp_path)
    # as an installed console script: neither '' nor the working folder on sys.path
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", os.getcwd(), str(tmp_path))])
    monkeypatch.delitem(sys.modules, "probe_cwd_models", raising=False)
    try:
        assert load_model("probe_cwd_models:make")(X).shape == (3, 2)
    finally:
        sys.modules.pop("probe_cwd_models", None)
    with pytest.raises(FreqprobeError, match=f"No module named 'no_such_module_here'; searched sys.path and the "
                                             f"current folder {tmp_path}"):  # fmt: skip
        load_model("no_such_module_here:make")


def test_weights_that_do_not_fit_are_summarised_in_one_line(tmp_path) -> None:
    torch.save({"0.weight": torch.zeros(5, 3, 3, 3), "extra": torch.zeros(1), "extra2": torch.zeros(1)},
               tmp_path / "w.pt")  # fmt: skip
    with pytest.raises(FreqprobeError) as caught:
        load_model("test_probe_models:small_net", tmp_path / "w.pt")
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith("weights do not fit the model Sequential (missing keys: 3 (0.bias, 5.weight, 5.bias); "
                            "unexpected keys: 2 (extra, extra2); shape mismatches: 1 (0.weight (5, 3, 3, 3) in the "
                            "file vs (4, 3, 3, 3) in the model))")  # fmt: skip
