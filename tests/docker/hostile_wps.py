"""A hostile WPS server for the docker_transport = wps tests: run inside the job's container (stdlib only).

    python3 hostile_wps.py SOCKET MODE

It answers a WPS 1.0.0 Execute like a server would, but attacks the host that follows it, by MODE:
symlink_socket (the socket path is a link to the host's Docker socket), swap_socket_dir (out/socket replaced
by a directory of its own), huge_status (a status document without end), entities (an entity bomb),
redirect (a 302 to somewhere else), file_href (an output at file:///etc/shadow), endless_output (an output
that never ends), plant_result (a result.json and a link in out/files of its own, then an honest answer),
exit_early (the server exits once the job is accepted).
"""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import sys
import threading
import time

SOCKET, MODE = sys.argv[1], sys.argv[2]
OUT = os.path.dirname(os.path.dirname(SOCKET))
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<wps:ExecuteResponse xmlns:wps="http://www.opengis.net/wps/1.0.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" service="WPS" '
        'version="1.0.0" statusLocation="http://localhost/status.xml"><wps:Process><ows:Identifier>say_hello'
        "</ows:Identifier><ows:Title>x</ows:Title></wps:Process>")
ACCEPTED = HEAD + '<wps:Status><wps:ProcessAccepted percentCompleted="0">ok</wps:ProcessAccepted></wps:Status>' \
                  "</wps:ExecuteResponse>"


def succeeded(output: str) -> str:
    return (HEAD + "<wps:Status><wps:ProcessSucceeded>done</wps:ProcessSucceeded></wps:Status><wps:ProcessOutputs>"
            "<wps:Output><ows:Identifier>output</ows:Identifier><ows:Title>Output</ows:Title>" + output
            + "</wps:Output></wps:ProcessOutputs></wps:ExecuteResponse>")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def address_string(self) -> str:
        return "unix"

    def log_message(self, *args) -> None:
        print(self.requestline, file=sys.stderr, flush=True)

    def send(self, body: bytes, code: int = 200, headers: dict | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {"Content-Type": "text/xml"}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if MODE == "redirect":
            self.send(b"", 302, {"Location": "http://169.254.169.254/latest/meta-data"})
            return
        if MODE == "entities":
            bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>' \
                   "<wps:ExecuteResponse xmlns:wps=\"http://www.opengis.net/wps/1.0.0\">&b;</wps:ExecuteResponse>"
            self.send(bomb.encode())
            return
        self.send(ACCEPTED.encode())
        if MODE == "exit_early":
            threading.Thread(target=lambda: (time.sleep(0.2), os._exit(0))).start()

    def do_GET(self) -> None:
        if self.path.startswith("/status.xml"):
            if MODE == "huge_status":
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                chunk = b"<x>" + b"a" * 65536 + b"</x>"
                try:
                    while True:
                        self.wfile.write(chunk)
                except OSError:
                    return
            if MODE == "exit_early":  # never final: the server is gone before the job ends
                body = ACCEPTED
            elif MODE == "file_href":
                body = succeeded('<wps:Reference href="file:///etc/shadow" mimeType="text/plain"/>')
            elif MODE == "endless_output":
                body = succeeded('<wps:Reference href="http://localhost/endless" mimeType="text/plain"/>')
            else:
                body = succeeded('<wps:Data><wps:LiteralData dataType="string">honest</wps:LiteralData></wps:Data>')
            self.send(body.encode())
        elif self.path.startswith("/endless"):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"x" * 65536)
            except OSError:
                return
        else:
            self.send(b"not found", 404)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main() -> None:
    if MODE == "symlink_socket":  # listen elsewhere; the socket's path names the host's Docker socket
        server = Server(os.path.join(OUT, "real.sock"), Handler)
        os.symlink("/var/run/docker.sock", SOCKET)
    elif MODE == "swap_socket_dir":  # the host's directory moved away, one of the container's in its place
        os.rename(os.path.dirname(SOCKET), os.path.join(OUT, "moved"))
        os.mkdir(os.path.dirname(SOCKET))
        server = Server(SOCKET, Handler)
    else:
        server = Server(SOCKET, Handler)
    if MODE == "plant_result":
        os.makedirs(os.path.join(OUT, "files"), exist_ok=True)  # out/ is the container's to write
        os.symlink("/etc/shadow", os.path.join(OUT, "files", "leak"))
        with open(os.path.join(OUT, "result.json"), "w") as handle:
            json.dump({"outputs": [{"identifier": "output", "kind": "literal", "value": "planted"}],
                       "exception": None}, handle)
    server.serve_forever()


if __name__ == "__main__":
    main()
