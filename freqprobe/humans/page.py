"""The participant's page: one HTML file with its script, driven by the keyboard alone.

States (``document.body.dataset.state``): ``start`` (type an id, Enter), ``instructions``
(Space), then per trial ``fixation`` (a cross, ``fixation_ms``), ``stimulus`` (the image
or pair, ``presentation_ms``), ``respond`` (the question and keys; the first valid key is
the answer, its time from stimulus onset the ``rt``), and at the end ``done``; ``refused``
shows why a start was turned down. An attention check shows, instead of an image, the key
to press.
"""

from __future__ import annotations

import html
import json
from typing import Any

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>freqprobe · __TITLE__</title>
<style>
 html, body { margin: 0; height: 100%; background: #808080; color: #111; font: 18px/1.4 sans-serif; }
 #stage { display: flex; flex-direction: column; align-items: center; justify-content: center; height: 100%; }
 #fixation { font-size: 48px; display: none; }
 #images img { width: 224px; height: 224px; image-rendering: pixelated; margin: 0 24px; }
 #keys span { display: inline-block; margin: 4px 8px; padding: 2px 8px; background: #ddd; border-radius: 4px; }
 .hidden { display: none !important; }
</style></head>
<body data-state="start"><div id="stage">
 <div id="start"><p>Participant id:</p><input id="participant" autofocus autocomplete="off">
  <p>Press Enter to start.</p><p id="message"></p></div>
 <div id="instructions" class="hidden"><p>__QUESTION__</p>
  <p>Look at the cross; an image appears briefly; then answer with the keys shown.</p>
  <p><b>Press Space to begin.</b></p><p id="progress"></p></div>
 <div id="fixation">+</div>
 <div id="images" class="hidden"></div>
 <div id="attention" class="hidden"></div>
 <div id="respond" class="hidden"><p>__QUESTION__</p><div id="keys"></div></div>
 <div id="done" class="hidden"><p>Thank you, that is all.</p></div>
</div>
<script>
"use strict";
const config = __CONFIG__;
const $ = (id) => document.getElementById(id);
let session = null, queue = [], current = null, onset = 0, busy = false;
function show(state) {
  for (const id of ["start", "instructions", "images", "attention", "respond", "done"]) $(id).classList.add("hidden");
  $("fixation").style.display = state === "fixation" ? "block" : "none";
  const visible = {start: "start", refused: "start", instructions: "instructions", stimulus: null,
                   respond: "respond", done: "done"}[state];
  if (visible) $(visible).classList.remove("hidden");
  document.body.dataset.state = state;
}
async function post(path, body) {
  const reply = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                   body: JSON.stringify(body)});
  const data = await reply.json();
  if (!reply.ok) throw new Error(data.error || reply.statusText);
  return data;
}
function keyName(key) { return key.length === 1 ? key.toLowerCase() : key; }
function label(key) { return {ArrowLeft: "←", ArrowRight: "→"}[key] || key.toUpperCase(); }
$("keys").innerHTML = Object.entries(config.keys).map(([k, v]) => `<span>${label(k)} ${v}</span>`).join("");
function preload(trials) { for (const t of trials) for (const f of t.files) { new Image().src = "stimuli/" + f; } }
function next() {
  current = queue.shift();
  if (!current) { show("done"); return; }
  preload(queue.slice(0, 4));
  $("images").innerHTML = current.files.map((f) => `<img src="stimuli/${f}" alt="">`).join("");
  document.body.dataset.trial = current.trial;
  show("fixation");
  setTimeout(() => {
    $("fixation").style.display = "none";
    if (current.attention) {
      $("attention").textContent = `Attention check: press ${label(current.attention)}`;
      $("attention").classList.remove("hidden");
    } else { $("images").classList.remove("hidden"); }
    document.body.dataset.state = "stimulus";
    onset = performance.now();
    setTimeout(() => { if (!current.attention) show("respond"); else document.body.dataset.state = "respond"; },
               config.timing.presentation_ms);
  }, config.timing.fixation_ms);
}
async function answer(key) {
  busy = true;
  const rt = performance.now() - onset;
  try {
    await post("api/respond", {participant: session.participant, token: session.token,
                               trial: current.trial, key: key, rt_ms: rt});
    next();
  } catch (error) { $("message").textContent = error.message; show("refused"); }
  busy = false;
}
document.addEventListener("keydown", async (event) => {
  const state = document.body.dataset.state, key = keyName(event.key);
  if ((state === "start" || state === "refused") && event.key === "Enter") {
    event.preventDefault();
    try {
      session = await post("api/start", {participant: $("participant").value.trim()});
      queue = session.trials; preload(queue.slice(0, 4));
      $("progress").textContent = session.done ? `Resuming at trial ${session.done + 1} of ${session.total}.` : "";
      show("instructions");
      setInterval(() => post("api/heartbeat", {participant: session.participant, token: session.token})
                  .catch(() => {}), config.heartbeat_ms);
    } catch (error) { $("message").textContent = error.message; show("refused"); }
  } else if (state === "instructions" && event.key === " ") {
    event.preventDefault(); next();
  } else if (state === "respond" && !busy && Object.hasOwn(config.keys, key)) {
    event.preventDefault(); answer(key);
  }
});
$("participant").focus();
document.body.dataset.ready = "1";
</script></body></html>
"""


def render_page(title: str, question: str, config: dict[str, Any]) -> bytes:
    """The page with the experiment's question, keys and timing filled in."""
    text = PAGE.replace("__TITLE__", html.escape(title)).replace("__QUESTION__", html.escape(question))
    return text.replace("__CONFIG__", json.dumps(config).replace("</", "<\\/")).encode()
