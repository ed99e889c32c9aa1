"""Fixtures of the OGC API tests: an app serving the example (and hostile) processes, and helpers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pywps.processes import hostile

BASE = "/ogcapi/"


class Api:
    """A test client speaking JSON to /ogcapi/."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.app = client.application
        self.dispatcher = self.app.extensions["pywps"]["dispatcher"]

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(BASE + path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(BASE + path, **kwargs)

    def execute(self, process: str, document: dict | None = None, asynchronous: bool = False,
                headers: dict | None = None, raw: bytes | None = None, content_type: str = "application/json"
                ) -> Any:
        headers = dict(headers or {})
        if asynchronous:
            headers["Prefer"] = "respond-async"
        data = raw if raw is not None else json.dumps(document or {})
        return self.client.post(f"{BASE}processes/{process}/execution", data=data, content_type=content_type,
                                headers=headers)

    def status(self, job_id: str) -> dict:
        return json.loads(self.get(f"jobs/{job_id}").get_data())

    def wait(self, job_id: str, statuses=("successful", "failed", "dismissed"), timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.status(job_id)
            if info["status"] in statuses:
                return info
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} still {info['status']} after {timeout} s")

    def job_count(self) -> int:
        return len(self.dispatcher.store.list(limit=10000))


def job_id_of(resp: Any) -> str:
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def api(make_client) -> Api:
    return Api(make_client(hostile.testing_processes()))


@pytest.fixture
def make_api(make_client):
    def make(processes=None, **sections: dict) -> Api:
        return Api(make_client(hostile.testing_processes() if processes is None else processes, **sections))

    return make


class Receiver:
    """A small HTTP server on 127.0.0.1 that records what is POSTed to it and serves given files."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.posts.append((self.path, json.loads(body or b"null")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                found = receiver.files.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, mime = found
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
