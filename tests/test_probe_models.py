"""Loading a user's classifier (``load_model``) and any classifier at all (``resolve_model``)."""

from __future__ import annotations

import pickle

import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.ablation.trained import resolve_model
from freqprobe.errors import FreqprobeError
from freqprobe.models.loading import CallableModel, load_model
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
    (lambda p: p.write_bytes(pickle.dumps(Payload(), protocol=2)), "cannot load weights safely"),
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
