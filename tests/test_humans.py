"""The psychophysics page: plans, sessions over HTTP, and a scripted participant in headless chromium."""

from __future__ import annotations

import dataclasses
import errno
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
from freqprobe.humans.classifier import classifier_trials
from freqprobe.humans.sessions import COLUMNS, Sessions
from freqprobe.humans.summary import summary_table
from freqprobe.humans.trial_table import append_trial, read_trials
from freqprobe.probe.distortions import parse_conditions
from freqprobe.probe.labelled import load_labelled

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
    drawn = probe_drawn(tmp_path / "data", ["low-pass:0,3"], seed=0)
    for trial in plan:  # drawn through the probe's low-pass
        shown = np.asarray(Image.open(tmp_path / "out" / "stimuli" / trial["file"]))
        assert np.array_equal(shown, drawn[trial["condition"], trial["imagename"]])
        assert drawn["3", trial["imagename"]].std() < drawn["0", trial["imagename"]].std()


def probe_drawn(data: Path, distortions: list[str], seed: int) -> dict[tuple[str, str], np.ndarray]:
    """Every image at every level as the probe draws it (the whole set at once; random
    distortions keyed by image index), as uint8 ``(H, W, 3)``: (condition, imagename) -> image."""
    labelled = load_labelled(data)
    images, index = labelled.images.float("cpu"), torch.arange(len(labelled.images))
    drawn = {}
    for condition in parse_conditions(distortions, None, seed):
        condition.fit([(index, images)])
        out = (condition(images, index).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        drawn.update({(condition.label, name): image for name, image in zip(labelled.images.names, out)})
    return drawn


def test_categorisation_writes_only_the_stimuli_participants_are_shown(tmp_path) -> None:
    for c, brightness in (("cat", 0.7), ("dog", 0.3)):
        write_set(tmp_path / "data" / c, brightness, n=3)
    experiment = prepare(tmp_path / "out", [("data", tmp_path / "data")], task="categorise",
                         distortions=["uniform-noise:0,0.1,0.2"], attention_every=0, seed=3)  # fmt: skip
    written = {p.relative_to(tmp_path / "out" / "stimuli").as_posix() for p in (tmp_path / "out").rglob("*.png")}
    assert written == {t["file"] for t in experiment.plan("p1")} and len(written) == 6  # not 6 images x 3 levels
    assert sorted(t["condition"] for t in experiment.plan("p1")) == ["0.0", "0.0", "0.1", "0.1", "0.2", "0.2"]
    drawn = probe_drawn(tmp_path / "data", ["uniform-noise:0,0.1,0.2"], seed=3)
    for stimulus in experiment.stimuli:  # each as the probe draws it, though only it was drawn
        shown = np.asarray(Image.open(tmp_path / "out" / "stimuli" / stimulus["file"]))
        assert np.array_equal(shown, drawn[stimulus["condition"], stimulus["imagename"]]), stimulus["file"]


def test_a_categorisation_folder_prepared_with_every_level_of_every_image_keeps_its_plans(tmp_path) -> None:
    """Folders written before only the stimuli shown were kept list each image at every
    level; they load to the same stimuli, hence the same plans, so their sessions resume."""
    for c, brightness in (("cat", 0.7), ("dog", 0.3)):
        write_set(tmp_path / "data" / c, brightness, n=3)
    experiment = prepare(tmp_path / "out", [("data", tmp_path / "data")], task="categorise",
                         distortions=["low-pass:0,3,7"], attention_every=2, seed=5)  # fmt: skip
    levels = ["0", "3", "7"]
    every = [{**s, "file": f"low-pass/{level}/{s['imagename']}", "condition": level}
             for level in levels for s in experiment.stimuli]  # fmt: skip
    dataclasses.replace(experiment, stimuli=every).save(tmp_path / "old")
    old = Experiment.load(tmp_path / "old")
    assert old.stimuli == experiment.stimuli and old.plan("p1") == experiment.plan("p1")


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


def _io_counters() -> tuple[int, int]:
    """Bytes this thread has passed to ``write`` and taken from ``read`` calls (Linux)."""
    fields = dict(line.split(": ") for line in Path("/proc/thread-self/io").read_text().splitlines())
    return int(fields["wchar"]), int(fields["rchar"])


@pytest.mark.skipif(not Path("/proc/thread-self/io").exists(), reason="counts the thread's I/O in /proc (Linux)")
def test_each_response_appends_its_record_and_neither_rereads_nor_rewrites_the_table(tmp_path, monkeypatch) -> None:
    sets = [("real", write_set(tmp_path / "r", 0.7, n=20, size=8)),
            ("generated", write_set(tmp_path / "g", 0.3, n=20, size=8))]
    experiment = prepare(tmp_path / "out", sets, trials=40, attention_every=0)
    plans = []
    monkeypatch.setattr(Experiment, "plan", lambda self, p, plan=Experiment.plan: plans.append(p) or plan(self, p))
    sessions = Sessions(tmp_path / "out", experiment)
    token = sessions.start("p1")["token"]
    path = sessions.table_path("p1")
    written, reads = 0, []
    for trial in range(1, 41):
        before, size = _io_counters(), path.stat().st_size if path.exists() else 0
        sessions.respond("p1", token, trial, "f", 300.0)
        after = _io_counters()
        assert after[0] - before[0] == path.stat().st_size - size  # the new record (and first the header), only
        written, reads = written + after[0] - before[0], reads + [after[1] - before[1]]
        assert len(pd.read_csv(path)) == trial  # on disk, readable, after every response
    assert written == path.stat().st_size > 2000  # rewriting would have written ~20x the table
    assert max(reads) < 150  # /proc/thread-self/io's own text: the table (2 kB at the end) is not read again
    assert plans == ["p1"]  # the plan is drawn once per session, not per response


def test_a_torn_last_record_is_cut_off_and_the_session_resumes_at_it(two_sets, tmp_path) -> None:
    experiment = prepare(tmp_path / "out", two_sets, trials=6, attention_every=0)
    sessions = Sessions(tmp_path / "out", experiment)
    token = sessions.start("p1")["token"]
    for trial in (1, 2, 3):
        sessions.respond("p1", token, trial, "j", 400.0)
    path = sessions.table_path("p1")
    whole = path.read_bytes()
    with open(path, "ab") as table:  # the server died while writing trial 4's record
        table.write(b"p1,1,4,0.3000,real,gen")
    assert len(read_trials(path)) == 3 and len(summary_table(tmp_path / "out")) == 1  # readers leave it out
    restarted = Sessions(tmp_path / "out", experiment)
    with pytest.warns(UserWarning, match="dropped an incomplete last line"):
        session = restarted.start("p1")
    assert path.read_bytes() == whole and session["done"] == 3 and session["trials"][0]["trial"] == 4
    for trial in (4, 5, 6):
        assert restarted.respond("p1", session["token"], trial, "f", 500.0)["recorded"] == trial
    table = pd.read_csv(path)
    plan = experiment.plan("p1")
    assert list(table.columns) == list(COLUMNS) and list(table["trial"]) == [1, 2, 3, 4, 5, 6]
    assert list(table["imagename"]) == [t["imagename"] for t in plan] and not table.isna().any().any()
    assert list(table["object_response"]) == ["generated"] * 3 + ["real"] * 3


AWKWARD = [["s", "1", "1", "0.5000", "a, b", 'say "hi"', "single", "x/ä é.png"],
           ["s", "1", "2", "0.6000", "two\nlines", "na", "single", "y,z.png"],
           ["s", "1", "3", "0.7000", "NA?", "cr\rhere", "c50", "last.png"]]  # fmt: skip


def test_a_trial_table_reads_back_its_complete_records_wherever_a_crash_cuts_the_last(tmp_path) -> None:
    path = tmp_path / "t.csv"
    for record in AWKWARD[:2]:
        append_trial(path, record)
    kept = path.read_bytes()
    assert pd.read_csv(path, dtype=str, keep_default_na=False).values.tolist() == AWKWARD[:2]
    append_trial(path, AWKWARD[2])
    whole = path.read_bytes()
    for cut in range(len(kept), len(whole)):  # every point at which the last record's write may stop
        path.write_bytes(whole[:cut])
        assert read_trials(path).values.tolist() == AWKWARD[:2], cut
    path.write_bytes(whole)
    assert read_trials(path).values.tolist() == AWKWARD


def test_a_failed_append_leaves_the_table_as_it_was(tmp_path, monkeypatch) -> None:
    import os

    path = tmp_path / "t.csv"
    append_trial(path, AWKWARD[0])
    before = path.read_bytes()
    real_write = os.write
    calls = []

    def disk_fills(descriptor: int, data: bytes) -> int:  # half the record lands, then the disk is full
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(descriptor, data[: len(data) // 2])

    monkeypatch.setattr(os, "write", disk_fills)
    with pytest.raises(OSError):
        append_trial(path, AWKWARD[2])
    monkeypatch.undo()
    assert path.read_bytes() == before and len(calls) == 2
    append_trial(path, AWKWARD[2])
    assert read_trials(path).values.tolist() == [AWKWARD[0], AWKWARD[2]]


class TinyConvNet(nn.Module):
    """A small seeded CNN (2 outputs: real, generated) that counts its forward passes and their sizes."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
        self.batches: list[int] = []

    def score(self, x: torch.Tensor) -> torch.Tensor:  # brightness tells the sets apart, the CNN perturbs it
        m = x.mean(dim=(1, 2, 3))
        return self.net(x) + 4 * torch.stack([m - 0.5, 0.5 - m], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(len(x))
        return self.score(x)


@pytest.mark.parametrize("pairs", [False, True])
def test_the_classifier_scores_stimuli_in_batches_with_the_answers_of_one_at_a_time(two_sets, tmp_path,
                                                                                   pairs) -> None:  # fmt: skip
    out = tmp_path / "out"
    experiment = prepare(out, two_sets, trials=8, pairs=pairs, attention_every=0)
    model = TinyConvNet()
    classifier_trials(out, model, batch_size=3, device="cpu")
    table = pd.read_csv(out / "classifier.csv")
    images = 16 if pairs else 8
    assert model.batches == [3] * (images // 3) + [images % 3]  # ceil(images / 3) passes, not one per stimulus

    def alone(file: str) -> torch.Tensor:  # the reference: each image through the model by itself
        x = torch.from_numpy(np.array(Image.open(out / "stimuli" / file))).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            return model.score(x)[0]

    for row, stimulus in zip(table.itertuples(), experiment.stimuli):
        if pairs:
            left, right = (alone(f)[0] for f in stimulus["pair"])  # score of the first set, 'real'
            assert row.object_response == ("left" if left >= right else "right")
        else:
            assert row.object_response == ("real", "generated")[int(alone(stimulus["file"]).argmax())]
    assert set(table["object_response"]) != {table["object_response"].iloc[0]}  # the model is not constant
    classifier_trials(out, model, batch_size=1, device="cpu")
    assert pd.read_csv(out / "classifier.csv").equals(table)
    with pytest.raises(FreqprobeError, match="batch_size must be an int >= 1"):
        classifier_trials(out, model, batch_size=0)


def test_a_response_the_disk_refuses_is_reported_and_can_be_given_again(two_sets, tmp_path, monkeypatch) -> None:
    import freqprobe.humans.sessions as sessions_module

    prepare(tmp_path / "out", two_sets, trials=4, attention_every=0)
    server = serve(tmp_path / "out")
    server.start_in_thread()
    try:
        session = post(server.url + "api/start", {"participant": "p1"})[1]
        body = {"participant": "p1", "token": session["token"], "trial": 1, "key": "f", "rt_ms": 450.0}
        with monkeypatch.context() as patch:
            patch.setattr(sessions_module, "append_trial", mock_full_disk)
            status, reply = post(server.url + "api/respond", body)
        assert status == 500 and reply["error"].startswith("the trial table cannot be written (No space left")
        assert post(server.url + "api/respond", body) == (200, {"recorded": 1, "finished": False})
    finally:
        server.shutdown()
        server.server_close()
    assert list(pd.read_csv(tmp_path / "out" / "real-vs-generated_p1_session_1.csv")["trial"]) == [1]


def mock_full_disk(path: Path, values) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")
