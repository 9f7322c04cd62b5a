"""The psychophysics page: plans, sessions over HTTP, and a scripted participant in headless chromium."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.humans import Experiment, prepare, serve
from freqprobe.humans.experiment import ATTENTION
from freqprobe.humans.sessions import COLUMNS

from browser import Chromium, find_chromium


def write_set(folder: Path, brightness: float, n: int = 8, size: int = 32, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for k in range(n):
        array = np.clip(brightness + 0.1 * rng.standard_normal((size, size, 3)), 0, 1)
        Image.fromarray((array * 255).astype(np.uint8)).save(folder / f"img{k}.png")
    return folder


class Brightness(nn.Module):
    """Bright images are 'real' (class 0), dark ones 'generated'."""

    class_names = ("real", "generated")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([m - 0.5, 0.5 - m], dim=1)


@pytest.fixture
def two_sets(tmp_path) -> list[tuple[str, Path]]:
    return [("real", write_set(tmp_path / "real", 0.7)), ("generated", write_set(tmp_path / "gen", 0.3, seed=1))]


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_2afc_plan_is_balanced_and_a_pure_function_of_seed_and_participant(two_sets, tmp_path) -> None:
    experiment = prepare(tmp_path / "out", two_sets, trials=8, attention_every=4)
    plan = experiment.plan("p1")
    real = [t for t in plan if t["condition"] != ATTENTION]
    assert len(real) == 8 and sum(t["category"] == "real" for t in real) == 4
    assert [t["condition"] for t in plan].count(ATTENTION) == 2 and plan[4]["condition"] == ATTENTION
    assert plan == Experiment.load(tmp_path / "out").plan("p1") and plan != experiment.plan("p2")
    pairs = prepare(tmp_path / "pairs", two_sets, trials=8, pairs=True, attention_every=0).plan("p1")
    assert sorted(t["category"] for t in pairs) == ["left"] * 4 + ["right"] * 4


def test_categorisation_shows_each_image_once_with_conditions_balanced(tmp_path) -> None:
    for c, brightness in (("cat", 0.7), ("dog", 0.3)):
        write_set(tmp_path / "data" / c, brightness, n=4)
    experiment = prepare(tmp_path / "out", [("data", tmp_path / "data")], task="categorise",
                         distortions=["low-pass:0,3"], attention_every=0)  # fmt: skip
    plan = experiment.plan("p1")
    assert sorted(t["imagename"] for t in plan) == sorted(f"{c}/img{k}.png" for c in ("cat", "dog") for k in range(4))
    assert sorted(t["condition"] for t in plan) == ["0"] * 4 + ["3"] * 4
    assert experiment.keys == {"a": "cat", "b": "dog"}
    blurred = np.asarray(Image.open(tmp_path / "out" / "stimuli" / "low-pass" / "3" / "cat" / "img0.png"))
    sharp = np.asarray(Image.open(tmp_path / "out" / "stimuli" / "low-pass" / "0" / "cat" / "img0.png"))
    assert blurred.std() < sharp.std()  # drawn through the probe's low-pass


def test_sessions_over_http_record_each_response_refuse_a_second_page_and_resume(two_sets, tmp_path) -> None:
    prepare(tmp_path / "out", two_sets, trials=4, attention_every=0)
    server = serve(tmp_path / "out", lease_s=0.5)
    assert server.server_address[0] == "127.0.0.1"
    server.start_in_thread()
    try:
        status, session = post(server.url + "api/start", {"participant": "p1"})
        assert status == 200 and session["total"] == 4
        assert post(server.url + "api/start", {"participant": "p1"})[1]["error"].endswith("on another page")
        trial = session["trials"][0]["trial"]
        body = {"participant": "p1", "token": session["token"], "trial": trial, "key": "f", "rt_ms": 512.0}
        assert post(server.url + "api/respond", body)[0] == 200
        assert post(server.url + "api/respond", body)[1]["error"] == "trial 1 is not the next one (2)"
        table = pd.read_csv(tmp_path / "out" / "real-vs-generated_p1_session_1.csv")
        assert list(table.columns) == list(COLUMNS) and table["rt"].iloc[0] == 0.512
        time.sleep(0.6)  # the page went quiet: the lease ran out
        status, resumed = post(server.url + "api/start", {"participant": "p1"})
        assert status == 200 and resumed["done"] == 1 and resumed["trials"][0]["trial"] == 2
        with urllib.request.urlopen(server.url + "stimuli/..%2Fexperiment.json", timeout=5) as reply:
            pytest.fail(f"served a file outside stimuli: {reply.status}")
    except urllib.error.HTTPError as err:
        assert err.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_a_different_experiment_in_the_same_folder_is_refused(two_sets, tmp_path) -> None:
    prepare(tmp_path / "out", two_sets, trials=4)
    with pytest.raises(FreqprobeError, match="holds another experiment"):
        prepare(tmp_path / "out", two_sets, trials=6)


def _answer(trial: dict, wrong: bool, keys: dict[str, str]) -> str:
    if trial["condition"] == ATTENTION:
        return trial["expected"]
    right = next(key for key, meaning in keys.items() if meaning == trial["category"])
    return next(key for key in keys if key != right) if wrong else right


def _take_trials(page, plan, keys, trials, wrong) -> None:
    for trial in trials:
        page.wait_for(f"document.body.dataset.state === 'respond' && document.body.dataset.trial === '{trial}'")
        page.press(_answer(plan[trial - 1], trial in wrong, keys))


@pytest.mark.skipif(find_chromium() is None, reason="no chromium binary (apt-get install chromium; .ci/run does)")
def test_a_scripted_participant_completes_a_session_in_headless_chromium(two_sets, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    experiment = prepare(out, two_sets, trials=6, fixation_ms=100, presentation_ms=150, attention_every=3,
                         model=Brightness())  # fmt: skip
    plan, keys, wrong = experiment.plan("subject-01"), experiment.keys, {2, 5}
    server = serve(out, lease_s=1.0)
    server.start_in_thread()
    browser = Chromium.start(tmp_path, find_chromium())
    try:
        page = browser.new_page()
        page.call("Page.navigate", url=server.url)
        page.wait_for("document.body && document.body.dataset.ready && document.body.dataset.state === 'start'")
        page.type("subject-01")
        page.press("Enter")
        page.wait_for("document.body.dataset.state === 'instructions'")
        page.press(" ")
        page.wait_for("document.body.dataset.trial === '1' && document.body.dataset.state === 'respond'")
        page.screenshot(tmp_path / "humans.png")
        _take_trials(page, plan, keys, [1, 2, 3], wrong)
        page.wait_for("document.body.dataset.trial === '4' && document.body.dataset.state === 'respond'")
        second = browser.new_page()  # another page with the same id while the first holds it
        second.call("Page.navigate", url=server.url)
        second.wait_for("document.body && document.body.dataset.ready && document.body.dataset.state === 'start'")
        second.type("subject-01")
        second.press("Enter")
        assert "already taking part" in second.wait_for(
            "document.body.dataset.state === 'refused' && document.getElementById('message').textContent")
        second.close()
        page.call("Page.navigate", url=server.url)  # the tab goes away mid-trial 4; the lease runs out
        page.wait_for("document.body && document.body.dataset.ready && document.body.dataset.state === 'start'")
        time.sleep(1.2)
        page.type("subject-01")
        page.press("Enter")
        state = page.wait_for("document.body.dataset.state !== 'start' && document.body.dataset.state + ': ' + "
                              "document.getElementById('message').textContent + document.getElementById('progress').textContent")
        assert "Resuming at trial 4" in state, state
        page.press(" ")
        _take_trials(page, plan, keys, range(4, len(plan) + 1), wrong)
        page.wait_for("document.body.dataset.state === 'done'")
        page.close()
    finally:
        browser.stop()
        server.shutdown()
        server.server_close()
    table = pd.read_csv(out / "real-vs-generated_subject-01_session_1.csv")
    assert list(table.columns) == list(COLUMNS) and list(table["trial"]) == list(range(1, len(plan) + 1))
    for row, trial in zip(table.itertuples(), plan):
        assert (row.subj, row.session, row.category, row.condition, row.imagename) == (
            "subject-01", 1, trial["category"], trial["condition"], trial["imagename"])
        assert row.object_response == keys[_answer(trial, row.trial in wrong, keys)]
        assert row.rt >= 0.15  # answers are taken after the presentation
    summary = pd.read_csv(out / "summary.csv").set_index("observer")
    human = summary.loc["subject-01"]
    assert (human["n_trials"], human["accuracy"], human["attention_passed"], human["attention_checks"]) == (6, 4 / 6, 2, 2)
    assert human["ci_low"] < 4 / 6 < human["ci_high"]
    assert summary.loc["model", "accuracy"] == 1.0 and summary.loc["model", "kind"] == "model"
    code = main(["consistency", str(out / "real-vs-generated_subject-01_session_1.csv"), str(out / "classifier.csv"),
                 "--out", str(tmp_path / "c")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    consistency = pd.read_csv(tmp_path / "c" / "consistency.csv")
    assert consistency["n_trials"].iloc[0] == 6  # the attention checks are the human's alone
    assert (tmp_path / "humans.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_serve_command_prints_its_local_url_serves_the_page_and_stops_on_ctrl_c(two_sets, tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys

    sets = [f"{name}={path}" for name, path in two_sets]
    command = [sys.executable, "-m", "freqprobe.cli", "humans", "serve", "--sets", *sets, "--trials", "4",
               "--port", "0", "--out", str(tmp_path / "out")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        import select

        ready, _, _ = select.select([process.stdout], [], [], 120)  # bounded: a stuck server fails the test
        line = process.stdout.readline() if ready else "no output within 120 s"
        assert line.startswith("serving http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[1]
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert b"Participant id" in reply.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert (tmp_path / "out" / "experiment.json").is_file()


def bright_is_cat() -> nn.Module:
    return nn.Sequential(Brightness())  # outputs: cat (bright), dog (dark)


def test_a_categorisation_session_pairs_image_by_image_with_the_classifier(tmp_path, capsys) -> None:
    for c, brightness in (("cat", 0.7), ("dog", 0.3)):
        write_set(tmp_path / "data" / c, brightness, n=3)
    experiment = prepare(tmp_path / "out", [("data", tmp_path / "data")], task="categorise",
                         distortions=["low-pass:0,3"], attention_every=0, model=bright_is_cat())  # fmt: skip
    assert experiment.plan("subject-02") != experiment.plan("subject-01")  # orders differ, the stimuli not:
    files = [sorted(t["file"] for t in experiment.plan(p)) for p in ("subject-01", "subject-02")]
    assert files[0] == files[1]
    key_of = {meaning: key for key, meaning in experiment.keys.items()}
    server = serve(tmp_path / "out")
    server.start_in_thread()
    try:
        for participant in ("subject-01", "subject-02"):
            session = post(server.url + "api/start", {"participant": participant})[1]
            for trial in session["trials"]:  # every participant answers 'cat' throughout
                body = {"participant": participant, "token": session["token"], "trial": trial["trial"],
                        "key": key_of["cat"], "rt_ms": 700.0}  # fmt: skip
                assert post(server.url + "api/respond", body)[0] == 200
    finally:
        server.shutdown()
        server.server_close()
    human = tmp_path / "out" / "low-pass_subject-01_session_1.csv"
    assert set(pd.read_csv(human, dtype=str)["condition"]) == {"0", "3"}
    model = pd.read_csv(tmp_path / "out" / "classifier.csv", dtype=str)
    assert (model["object_response"] == model["category"]).all()  # brightness tells the classes apart
    code = main(["consistency", str(human), str(tmp_path / "out" / "low-pass_subject-02_session_1.csv"),
                 str(tmp_path / "out" / "classifier.csv"), "--out", str(tmp_path / "kappa")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "kappa" / "consistency.csv", keep_default_na=False)
    assert set(table["condition"]) == {"0", "3", "all"}  # every image matched in both conditions, every pair
    assert (table.loc[table["condition"] == "all", "n_trials"] == 6).all() and len(table) == 3 * 3


@pytest.mark.skipif(find_chromium() is None, reason="no chromium binary (apt-get install chromium; .ci/run does)")
def test_pairs_are_shown_side_by_side_and_answered_with_the_arrow_keys(two_sets, tmp_path) -> None:
    out = tmp_path / "out"
    experiment = prepare(out, two_sets, trials=4, pairs=True, fixation_ms=50, presentation_ms=700, attention_every=0)
    plan = experiment.plan("p")
    server = serve(out)
    server.start_in_thread()
    browser = Chromium.start(tmp_path, find_chromium())
    try:
        page = browser.new_page()
        page.call("Page.navigate", url=server.url)
        page.wait_for("document.body && document.body.dataset.ready && document.body.dataset.state === 'start'")
        page.type("p")
        page.press("Enter")
        page.wait_for("document.body.dataset.state === 'instructions'")
        page.press(" ")
        page.wait_for("document.body.dataset.trial === '1' && document.body.dataset.state !== 'fixation'")
        page.screenshot(tmp_path / "pair.png")  # the pair on screen (docs: figures/humans-pair.png)
        for trial in plan:
            page.wait_for(f"document.body.dataset.state === 'respond' && document.body.dataset.trial === "
                          f"'{trial['trial']}'")  # fmt: skip
            # the pair just shown (hidden again once the presentation time is over), left to right
            shown = page.evaluate("[...document.querySelectorAll('#images img')].map((i) => i.getAttribute('src'))")
            assert shown == [f"stimuli/{file}" for file in trial["pair"]]
            page.press("ArrowLeft" if trial["category"] == "left" else "ArrowRight")
        page.wait_for("document.body.dataset.state === 'done'")
        page.close()
    finally:
        browser.stop()
        server.shutdown()
        server.server_close()
    table = pd.read_csv(out / "real-vs-generated_p_session_1.csv")
    assert (table["object_response"] == table["category"]).all() and len(table) == 4
    assert (tmp_path / "pair.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
