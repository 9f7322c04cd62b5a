"""``freqprobe report DIR`` / ``fp.html_report``: one self-contained page per run folder, the
same view in Jupyter, and the page in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

import freqprobe as fp
from freqprobe.ablation.result import AblationResult
from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.probe.report import ProbeReport
from freqprobe.report.page import SECTIONS
from test_figures import study_table

ORDER = [key for key, _ in SECTIONS]


def probe_folder(folder: Path, correct_on_original: bool = True) -> None:
    rows = []
    for distortion, condition in [("original", "original"), ("contrast", "c100"), ("contrast", "c10")]:
        for k in range(20):
            right = correct_on_original or distortion != "original" or k % 2 == 0
            answer = "cat" if right or k % 3 else "dog"
            rows.append(dict(subj="net", distortion=distortion, condition=condition, imagename=f"{distortion}{condition}{k}.png",
                             category="cat", object_response=answer if distortion != "original" or right else "dog"))  # fmt: skip
    ProbeReport.from_trials(pd.DataFrame(rows), settings={"chance": 0.5}).save(folder)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A run folder with all four analyses and a folder of a kind the report does not know."""
    root = tmp_path_factory.mktemp("run")
    real, fake = fp.demo_sets(n=12, size=16)
    fp.spectrum(real, fake, device="cpu").save(root / "spectrum")
    AblationResult(study_table(("real", "a", "b"), ["original", "lowpass:0.1"]), pd.DataFrame()).save(root / "ablation")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2))
    fp.attribute(net, real, fake, bands=4, methods=["ablation"], pixel_methods=["ig"], n_images=6, pixel_images=2,
                 ig_steps=4, bootstrap=20, device="cpu").save(root / "attribution")  # fmt: skip
    probe_folder(root / "probe")
    other = root / "compare"
    other.mkdir()
    pd.DataFrame({"set_a": ["a"], "set_b": ["b"], "accuracy": [0.7]}).to_csv(other / "matrix.csv", index=False)
    shutil.copy(root / "spectrum" / "spectra.png", other / "matrix.png")
    return root


def section_order(page: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', page)


def test_the_report_answers_the_questions_in_order_and_shows_unknown_analyses_as_they_are(run_folder) -> None:
    page = fp.html_report(run_folder)
    html = page.html
    assert section_order(html) == ORDER  # difference, frequency, classifier, probe, other, warnings
    other = html.split('<section id="other">')[1].split("</section>")[0]
    assert "matrix.csv" in other and "<img" in other and "set_a" in other
    assert "pairwise tasks" in html  # the K-way study's pairs are plotted


def test_the_page_is_self_contained(run_folder) -> None:
    html = fp.html_report(run_folder).html
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith(("data:image/png;base64,", "#")) for s in sources)
    assert "http://" not in html and "https://" not in html
    assert html.count("<script>") == 1 and 'class="dataframe fp-sortable"' in html


def test_any_subset_of_analyses_makes_a_report(run_folder, tmp_path) -> None:
    shutil.copytree(run_folder / "probe", tmp_path / "probe")
    assert section_order(fp.html_report(tmp_path).html) == ["probe", "warnings"]
    alone = fp.html_report(run_folder / "attribution")  # an analysis folder itself
    assert section_order(alone.html) == ["classifier", "warnings"]


def test_warnings_name_a_control_off_chance_and_a_model_at_chance_on_clean_images(tmp_path) -> None:
    table = study_table(("real", "fake"), ["original"], seeds=3)
    table.loc[table["task"] == "real-vs-real", "accuracy"] = 0.9
    AblationResult(table, pd.DataFrame()).save(tmp_path / "ablation")
    probe_folder(tmp_path / "probe", correct_on_original=False)
    found = fp.html_report(tmp_path).warnings
    assert any("real-vs-real control is off chance" in text for text in found)
    assert any("at chance" in text and "undistorted" in text for text in found)


def test_a_damaged_analysis_folder_is_a_warning_not_a_crash(run_folder, tmp_path) -> None:
    (tmp_path / "old").mkdir()
    pd.DataFrame({"variant": ["original"], "accuracy": [0.9]}).to_csv(tmp_path / "old" / "results.csv", index=False)
    shutil.copytree(run_folder / "spectrum", tmp_path / "spectrum")
    page = fp.html_report(tmp_path)
    assert any("old: a ablate folder that cannot be read" in text for text in page.warnings)


def test_an_empty_or_missing_folder_is_one_line_error(tmp_path, capsys) -> None:
    with pytest.raises(FreqprobeError, match="holds no analysis"):
        fp.html_report(tmp_path)
    assert main(["report", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip() == f"freqprobe report: error: {tmp_path / 'none'}: no such run folder"


def test_the_command_writes_report_html_into_the_folder(run_folder, capsys) -> None:
    assert main(["report", str(run_folder)]) == 0
    assert (run_folder / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "wrote" in capsys.readouterr().out


def test_every_result_shows_the_same_view_in_jupyter(run_folder) -> None:
    spectrum = fp.SpectrumReport.load(run_folder / "spectrum")
    shown = spectrum._repr_html_()
    assert section_order(shown) == ["difference", "frequency", "warnings"]
    assert "data:image/png;base64," in shown and "fp-sortable" in shown
    for result in (fp.AblationResult.load(run_folder / "ablation"), fp.AttributionReport.load(run_folder / "attribution"),
                   ProbeReport.load(run_folder / "probe")):  # fmt: skip
        assert "<img" in result._repr_html_()


# -- in a real browser --------------------------------------------------------------------------
#: Appended to a copy of the page: waits for every image, sorts the first table by its
#: accuracy column, and writes what it saw into the DOM that chromium dumps.
CHECKER = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var table = document.querySelector("table.fp-sortable");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var column = headers.findIndex(function (h) { return h.textContent === "accuracy"; });
  headers[column].click();
  var values = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return parseFloat(r.cells[column].textContent); });
  var sorted = values.every(function (v, k) { return k === 0 || values[k - 1] <= v; });
  document.body.setAttribute("data-check", images.length + " " + broken + " " + sorted + " " + values.length);
});
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="no chromium binary (Debian: apt-get install chromium)")
def test_the_page_opens_in_chromium_without_console_errors_and_every_figure_loads(run_folder, tmp_path) -> None:
    page = tmp_path / "checked.html"
    page.write_text(fp.html_report(run_folder).html.replace("</body>", CHECKER + "</body>"))
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
               "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # chromium logs every console message and uncaught error here
    check = re.search(r'data-check="(\d+) (\d+) (\w+) (\d+)"', done.stdout)
    assert check is not None, done.stdout[-500:]
    n_images, broken, sorted_ok, n_rows = check.groups()
    assert int(n_images) >= 8 and broken == "0" and sorted_ok == "true" and int(n_rows) >= 2


def test_warnings_an_ablation_gave_are_kept_in_its_folder_and_shown_by_the_report(tmp_path) -> None:
    real, fake = fp.demo_sets(n=32, size=16)
    with pytest.warns(UserWarning, match=r"lowpass:0.1\+highpass:0.3 leaves the training images blank"):  # still raised
        fp.ablate(real, fake, ["original", "lowpass:0.1+highpass:0.3"], seeds=1, recipe="plain", progress=False,
                  null=False, device="cpu", out=tmp_path / "ablation")  # fmt: skip
    kept = pd.read_csv(tmp_path / "ablation" / "warnings.csv")
    assert kept["message"].str.contains("leaves the training images blank").any()
    shown = fp.html_report(tmp_path).warnings
    assert any(text.startswith("ablation: lowpass:0.1+highpass:0.3 leaves the training images blank") for text in shown)
