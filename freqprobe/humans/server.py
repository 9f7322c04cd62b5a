"""The local web server of ``freqprobe humans serve``: Python's ``http.server``, 127.0.0.1 only.

Routes: ``GET /`` (the page), ``GET /stimuli/<file>`` (a stimulus PNG, only from the run
folder's ``stimuli``), ``POST /api/start`` (``participant``), ``POST /api/respond``
(``participant, token, trial, key, rt_ms``), ``POST /api/heartbeat``. A refusal is HTTP
409 with ``{"error": reason}``; a response that could not be written (a full disk) 500.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .experiment import Experiment
from .page import render_page
from .sessions import Refused, Sessions
from .summary import write_summary

HOST = "127.0.0.1"
MAX_BODY = 16_384


class PsychophysicsServer(ThreadingHTTPServer):
    """Serves one run folder's experiment; ``url`` is where the page is."""

    daemon_threads = True

    def __init__(self, folder: Path, port: int = 0, lease_s: float = 20.0) -> None:
        self.folder = Path(folder)
        self.experiment = Experiment.load(self.folder)
        self.sessions = Sessions(self.folder, self.experiment, lease_s)
        self.summary_lock = threading.Lock()  # sessions finishing together: the last summary written sees both
        config = {"keys": self.experiment.keys, "timing": self.experiment.timing,
                  "heartbeat_ms": int(1000 * lease_s / 3)}  # fmt: skip
        self.page = render_page(self.experiment.name, self.experiment.question, config)
        super().__init__((HOST, port), Handler)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        return thread


class Handler(BaseHTTPRequestHandler):
    server: PsychophysicsServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal shows progress instead
        pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, self.server.page, "text/html; charset=utf-8")
            return
        root = (self.server.folder / "stimuli").resolve()
        if path.startswith("/stimuli/"):
            from urllib.parse import unquote

            file = (root / unquote(path[len("/stimuli/") :])).resolve()
            if file.is_relative_to(root) and file.is_file() and file.suffix == ".png":
                self._send(HTTPStatus.OK, file.read_bytes(), "image/png")
                return
        self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            sessions = self.server.sessions
            participant, token = str(body.get("participant", "")), str(body.get("token", ""))
            if self.path == "/api/start":
                reply = sessions.start(participant)
            elif self.path == "/api/respond":
                reply = sessions.respond(participant, token, int(body["trial"]), str(body["key"]), float(body["rt_ms"]))
            elif self.path == "/api/heartbeat":
                sessions.heartbeat(participant, token)
                reply = {}
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
        except Refused as refusal:
            self._json(HTTPStatus.CONFLICT, {"error": str(refusal)})
            return
        except (ValueError, KeyError, TypeError) as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"bad request: {err}"})
            return
        except OSError as err:  # e.g. a full disk: the table is as it was, the trial can be answered again
            reason = err.strerror or type(err).__name__
            message = f"the trial table cannot be written ({reason}); tell the experimenter"
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": message})
            return
        if reply.get("finished"):
            with self.server.summary_lock:
                write_summary(self.server.folder)
        self._json(HTTPStatus.OK, reply)
