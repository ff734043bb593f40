"""A local HTTP server for fault tests: it answers each request with the next scripted
behaviour (slow, 500, garbage, a Prometheus error, or pass through to a real URL)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class ScriptedServer:
    def __init__(
        self, script: list[str], *, default: str = "500", upstream: str = "", slow_if: bytes = b""
    ):
        self.script = list(script)
        # Requests whose form or URL holds these bytes answer slowly, whatever the script.
        self.slow_if = slow_if
        self.default = default
        self.upstream = upstream
        self.requests: list[str] = []
        # The form of each request: a batch of queries is POSTed (empty for a GET).
        self.forms: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self.respond(b"")

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                self.respond(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def respond(self, form: bytes) -> None:
                server.requests.append(self.path)
                server.forms.append(form)
                server.headers.append(dict(self.headers))
                behaviour = server.script.pop(0) if server.script else server.default
                if server.slow_if and server.slow_if in form + self.path.encode():
                    behaviour = "slow"
                status, body = server.answer(behaviour, self.path, form)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, behaviour: str, path: str, form: bytes = b"") -> tuple[int, bytes]:
        if behaviour == "slow":
            time.sleep(3)
            return 200, b"{}"
        if behaviour == "500":
            return 500, b"internal error"
        if behaviour == "garbage":
            return 200, b"<html>definitely not json"
        if behaviour == "wrong-shape":
            return 200, json.dumps({"status": "success", "data": {"resultType": "vector"}}).encode()
        if behaviour == "prom-timeout":
            body = {"status": "error", "errorType": "timeout", "error": "query timed out"}
            return 503, json.dumps(body).encode()
        if behaviour == "prom-error":
            body = {"status": "error", "errorType": "bad_data", "error": "parse error: boom"}
            return 400, json.dumps(body).encode()
        if behaviour == "401":
            return 401, b"unauthorized"
        if behaviour == "pass":
            if form:
                response = httpx.post(
                    self.upstream + path,
                    content=form,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=30,
                )
            else:
                response = httpx.get(self.upstream + path, timeout=30)
            return response.status_code, response.content
        raise ValueError(behaviour)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
