"""A small real HTTP data server on 127.0.0.1 for reference inputs (GET and POST), recording what it was sent."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    """One request the data server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/plain"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    delay: float = 0.0


class DataServer:
    """``add(path, body)`` a resource; ``POST /echo`` answers with the request body; ``seen`` lists requests."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.seen.append(Seen(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path.startswith("/echo"):
                    reply = Resource(json.dumps({"method": method, "body": body.decode("utf-8", "replace"),
                                                 "headers": dict(self.headers.items())}).encode(),
                                     "application/json")
                else:
                    reply = server.resources.get(self.path.split("?")[0]) or Resource(b"not found\n", status=404)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(reply.body), 4096):
                        chunk = reply.body[start:start + 4096]
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="dataserver", daemon=True)

    def add(self, path: str, body: bytes | str, content_type: str = "text/plain", **kwargs) -> str:
        """Serve ``body`` at ``path``; return its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.resources[path] = Resource(data, content_type, **kwargs)
        return self.base + path

    def start(self) -> DataServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
