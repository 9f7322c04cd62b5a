"""The command line a researcher can live in: every option's default and choices in its help,
errors in the words of the command line, did-you-mean, one sweep grammar."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

import freqprobe as fp
from freqprobe.cli import arguments, build_parser, main
from freqprobe.errors import FreqprobeError
from freqprobe.probe.distortions import PRESETS, parse_conditions


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_option_states_its_default_or_that_it_is_required(name: str) -> None:
    command = commands()[name]
    formatter = command.formatter_class(prog=name)
    for action in command._actions:
        if not action.option_strings or action.nargs == 0:  # positionals and on/off flags
            continue
        text = formatter._get_help_string(action)
        assert action.help and ("default" in text or "required" in text or action.required), (name, action.dest)
        if action.choices is not None:  # argparse shows them as {a,b} in the usage and the option list
            assert action.metavar is None or set(action.choices) <= set(arguments.__dict__.get(action.metavar, action.choices))


def test_the_choices_the_cli_offers_are_the_registries() -> None:
    from freqprobe.attribution.band_gains import METHODS
    from freqprobe.attribution.pixel_maps import PIXEL_METHODS
    from freqprobe.models import MODELS
    from freqprobe.spectra.power import WINDOWS
    from freqprobe.spectra.residuals import RESIDUALS
    from freqprobe.training.recipe import RECIPES

    assert set(arguments.WINDOWS) == set(WINDOWS) and set(arguments.DENOISERS) == set(RESIDUALS)
    assert arguments.BAND_METHODS == METHODS and arguments.PIXEL_METHODS == PIXEL_METHODS
    assert arguments.MODELS == tuple(MODELS)
    assert [name for name in RECIPES if f"{name} (" in arguments.RECIPE_HELP] == list(RECIPES)
    assert arguments.PRESETS == tuple(PRESETS)


@pytest.mark.parametrize(
    ("call", "suggestion"),
    [
        (lambda: fp.transform("lowpas:0.1"), "did you mean 'lowpass'?"),
        (lambda: fp.transform("lowpass:0.1,windw=gaussian"), "did you mean 'window'?"),
        (lambda: parse_conditions(["contrst:100"]), "did you mean 'contrast'?"),
        (lambda: parse_conditions(preset="model-vs-humans"), "did you mean 'model-vs-human'?"),
        (lambda: fp.ablate(*fp.demo_sets(n=40, size=16), ["original"], model="fats"), "did you mean 'fast'?"),
        (lambda: fp.ablate(*fp.demo_sets(n=40, size=16), ["original"], recipe="whitend"), "did you mean 'whitened'?"),
    ],
)
def test_unknown_names_get_a_did_you_mean(call, suggestion: str) -> None:
    with pytest.raises(FreqprobeError, match=suggestion.replace("?", r"\?")):
        call()


def test_argparse_choices_get_a_did_you_mean_too(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["spectrum", "--real", "a", "--fake", "b", "--out", "c", "--denoiser", "gausian"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().endswith("did you mean 'gaussian'? (see freqprobe spectrum --help)")


def test_errors_name_the_flags_the_user_typed(tmp_path: Path, capsys) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(12, 16, 16, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", arr_0=images)
    np.savez(tmp_path / "b.npz", arr_0=images[::-1].copy())
    argv = ["ablate", "--real", str(tmp_path / "a.npz"), "--fake", str(tmp_path / "b.npz"), "--test-size", "1.5",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == "freqprobe ablate: error: --test-size must lie in (0, 1), got 1.5"


def test_one_sweep_grammar_for_benchmark_and_filter_bank_distortions() -> None:
    conditions = parse_conditions(["low-pass:0,3", "lowpass:0.1,0.25,0.4", "bandpass:0.1,0.2"])
    curves = [(c.distortion, c.level) for c in conditions]
    assert curves == [("low-pass", 0.0), ("low-pass", 3.0), ("lowpass", 0.1), ("lowpass", 0.25), ("lowpass", 0.4),
                      ("bandpass:0.2", 0.1)]  # fmt: skip  (bandpass:0.1,0.2 is one band, not two levels)
    keyed = parse_conditions(["highpass:0.1,0.2,window=gaussian"])
    assert [c.label for c in keyed] == ["highpass:0.1,window=gaussian", "highpass:0.2,window=gaussian"]
    assert {c.distortion for c in keyed} == {"highpass:window=gaussian"}  # one curve


@pytest.mark.parametrize("command", ["probe", "heatmap"])
def test_a_label_map_file_that_is_not_json_is_one_line_naming_the_flag(command, tmp_path, capsys) -> None:
    broken = tmp_path / "map.json"
    broken.write_text("{'cat': [1, 2]")
    (tmp_path / "data" / "cat").mkdir(parents=True)
    code = main([command, "--model", "torch.nn:Identity", "--data", str(tmp_path / "data"), "--label-map",
                 str(broken), "--out", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"--label-map {broken}: not JSON" in err[0]
