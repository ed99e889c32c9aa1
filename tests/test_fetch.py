"""Tests for pywps.inout.fetch against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pywps.exceptions import (
    DataNotAccessible,
    FileSizeExceeded,
    InvalidParameterValue,
    SizeExceeded,
)
from pywps.inout.fetch import FetchPolicy, check_url, fetch_reference, host_matches, is_public_address
from pywps.requestmodel import InputValue

LOCAL = FetchPolicy(allow_private=True, timeout=(2, 2))


class Handler(BaseHTTPRequestHandler):
    """Serves the scenarios the tests need; counts hits per path."""

    protocol_version = "HTTP/1.1"
    hits: list[str] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              length: bool = True) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # the client gave up (timeout tests)
            self.close_connection = True

    def do_GET(self) -> None:
        self.hits.append(self.path)
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        size = int(query.get("n", "5000"))
        if url.path == "/data":
            self._send(200, b"hello world", {"Content-Type": "text/plain"})
        elif url.path == "/echo":
            info = {"method": "GET", "headers": dict(self.headers)}
            self._send(200, json.dumps(info).encode())
        elif url.path == "/redirect":
            self._send(int(query.get("code", "302")), b"", {"Location": query["to"]})
        elif url.path.startswith("/chain/"):
            left = int(url.path.rsplit("/", 1)[1])
            target = f"/chain/{left - 1}" if left > 0 else "/data"
            self._send(302, b"", {"Location": target})
        elif url.path == "/lying":  # declares fewer bytes than it sends
            self._send(200, b"x" * size, {"Content-Length": "100"}, length=False)
            self.close_connection = True
        elif url.path == "/declared":  # declares more than the cap
            self._send(200, b"x" * size)
        elif url.path == "/unsized":  # no Content-Length, body ends when the connection closes
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"y" * size)
            self.close_connection = True
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(size // 500):
                self.wfile.write(b"1f4\r\n" + b"z" * 500 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/gzip":
            self._send(200, gzip.compress(b"\0" * size), {"Content-Encoding": "gzip"})
        elif url.path == "/slow":
            time.sleep(float(query.get("s", "3")))
            self._send(200, b"late")
        elif url.path == "/missing":
            self._send(404, b"no")
        elif url.path == "/broken":
            self._send(500, b"oops")
        else:
            self._send(404, b"")

    def do_POST(self) -> None:
        self.hits.append(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        url = urlsplit(self.path)
        if url.path == "/redirect":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            self._send(int(query.get("code", "302")), b"", {"Location": query["to"]})
            return
        info = {"method": "POST", "body": body, "headers": dict(self.headers)}
        self._send(200, json.dumps(info).encode())


class QuietServer(ThreadingHTTPServer):
    """A threaded test server that does not print the tracebacks of clients that hung up."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Clients giving up (timeouts, TLS refusals) are part of the tests."""


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def ref(href: str, **kwargs) -> InputValue:
    return InputValue(identifier="inp", kind="reference", href=href, **kwargs)


# what a WPS 1.0.0 client is answered (exceptionCode, HTTP status): a reference refused or not found, one
# whose server failed, one too large; WPS 2.0.0 answers DataNotAccessible or SizeExceeded, 400
REFUSED = ("InvalidParameterValue", 400)
UNREACHABLE = ("NoApplicableCode", 500)
TOO_BIG = ("FileSizeExceeded", 413)


def refused(value: InputValue, dest: Path, policy: FetchPolicy, ows: tuple[str, int] = REFUSED,
            exc: type = DataNotAccessible) -> str:
    with pytest.raises(exc) as info:
        fetch_reference(value, dest, policy)
    assert type(info.value) is exc
    assert (info.value.name, info.value.code) == ows
    assert info.value.locator == "inp"
    assert not dest.exists()
    return info.value.description


def test_fetch_get(server, tmp_path):
    dest = tmp_path / "in" / "000"
    assert fetch_reference(ref(f"{server}/data"), dest, LOCAL) == dest
    assert dest.read_bytes() == b"hello world"


def test_fetch_post_with_headers_and_body(server, tmp_path):
    dest = tmp_path / "out"
    value = ref(f"{server}/echo", method="POST", headers=(("X-Token", "abc"), ("Host", "evil")),
                body="<GetFeature/>")
    fetch_reference(value, dest, LOCAL)
    info = json.loads(dest.read_text())
    assert info["method"] == "POST" and info["body"] == "<GetFeature/>"
    assert info["headers"]["X-Token"] == "abc"
    assert info["headers"]["Host"] == server.split("//")[1]


def test_fetch_post_with_body_reference(server, tmp_path):
    dest = tmp_path / "out"
    fetch_reference(ref(f"{server}/echo", method="POST", body_reference=f"{server}/data"), dest, LOCAL)
    assert json.loads(dest.read_text())["body"] == "hello world"
    # the body reference is checked under the same policy
    refused(ref("http://93.184.216.34/echo", method="POST", body_reference=f"{server}/data"),
            tmp_path / "x", FetchPolicy())


@pytest.mark.parametrize("href", [
    "http://127.0.0.1:{port}/data",
    "http://localhost:{port}/data",
    "http://127.1:{port}/data",
    "http://2130706433:{port}/data",
    "http://[::1]:{port}/data",
    "http://[::ffff:127.0.0.1]:{port}/data",
    "http://10.1.2.3/data",
    "http://192.168.1.1/data",
    "http://172.16.0.1/data",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0:{port}/data",
    "http://224.0.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
])
def test_private_addresses_refused_by_default(server, tmp_path, href):
    port = server.rsplit(":", 1)[1]
    before = len(Handler.hits)
    message = refused(ref(href.format(port=port)), tmp_path / "x", FetchPolicy())
    assert "non-public address" in message
    assert len(Handler.hits) == before  # never connected


@pytest.mark.parametrize("href", ["ftp://example.org/a", "gopher://x/", "file:///etc/passwd", "data:,x",
                                  "http:///nohost", "http://[bad/"])
def test_schemes_and_malformed_urls_refused(tmp_path, href):
    refused(ref(href), tmp_path / "x", FetchPolicy())


def test_https_only_policy(server, tmp_path):
    message = refused(ref(f"{server}/data"), tmp_path / "x", FetchPolicy(allowed_schemes=("https",),
                                                                          allow_private=True))
    assert "scheme" in message


def test_redirects_followed_and_limited(server, tmp_path):
    dest = tmp_path / "out"
    fetch_reference(ref(f"{server}/chain/2"), dest, LOCAL)  # 3 redirects
    assert dest.read_bytes() == b"hello world"
    message = refused(ref(f"{server}/chain/3"), tmp_path / "x", LOCAL)
    assert "redirects" in message
    refused(ref(f"{server}/chain/0"), tmp_path / "x", FetchPolicy(allow_private=True, max_redirects=0))


def test_redirect_to_private_address_refused(server, tmp_path):
    port = server.rsplit(":", 1)[1]
    trusted = FetchPolicy(trusted_hosts=("localhost",), timeout=(2, 2))
    # the trusted name itself works, and the Host header names it while the connection goes to its address
    dest = tmp_path / "ok"
    fetch_reference(ref(f"http://localhost:{port}/echo"), dest, trusted)
    assert json.loads(dest.read_text())["headers"]["Host"] == f"localhost:{port}"
    for target in (f"http://127.0.0.1:{port}/data", "http://169.254.169.254/latest/meta-data/",
                   f"http://[::1]:{port}/data", "http://10.0.0.1/"):
        before = len(Handler.hits)
        message = refused(ref(f"http://localhost:{port}/redirect?to={target}"), tmp_path / "x", trusted)
        assert "non-public address" in message
        assert len(Handler.hits) == before + 1  # only the redirecting request reached the server


def test_post_redirect_semantics(server, tmp_path):
    dest = tmp_path / "out"
    fetch_reference(ref(f"{server}/redirect?code=307&to=/echo", method="POST", body="abc"), dest, LOCAL)
    assert json.loads(dest.read_text())["body"] == "abc"
    fetch_reference(ref(f"{server}/redirect?code=303&to=/echo", method="POST", body="abc"), dest, LOCAL)
    assert json.loads(dest.read_text())["method"] == "GET"


def test_allowed_hosts(server, tmp_path):
    port = server.rsplit(":", 1)[1]
    policy = FetchPolicy(allow_private=True, allowed_hosts=("localhost",))
    fetch_reference(ref(f"http://localhost:{port}/data"), tmp_path / "a", policy)
    message = refused(ref(f"{server}/data"), tmp_path / "x", policy)
    assert "allowed hosts" in message
    assert host_matches("a.example.org", (".example.org",))
    assert host_matches("example.org", ("*.example.org",))
    assert host_matches("B.Example.org.", ("*.example.org",))
    assert not host_matches("badexample.org", (".example.org",))
    assert not host_matches("example.org.evil", ("example.org",))


@pytest.mark.parametrize("path", ["/unsized", "/chunked", "/gzip", "/declared"])
def test_size_cap_counts_bytes(server, tmp_path, path):
    policy = FetchPolicy(allow_private=True, max_size=1000, timeout=(2, 2))
    with pytest.raises(FileSizeExceeded) as info:
        fetch_reference(ref(f"{server}{path}?n=5000"), tmp_path / "x", policy)
    assert info.value.locator == "inp" and info.value.code == 413
    assert not (tmp_path / "x").exists()
    # under the cap the same resources arrive whole
    dest = tmp_path / "ok"
    fetch_reference(ref(f"{server}{path}?n=1000"), dest, policy)
    assert dest.stat().st_size == 1000


def test_size_cap_holds_with_lying_content_length(server, tmp_path):
    policy = FetchPolicy(allow_private=True, max_size=1000, timeout=(2, 2))
    dest = tmp_path / "x"
    try:
        fetch_reference(ref(f"{server}/lying?n=50000"), dest, policy)
    except (FileSizeExceeded, DataNotAccessible):
        assert not dest.exists()
    else:
        assert dest.stat().st_size <= 1000


def test_timeouts_and_errors(server, tmp_path):
    policy = FetchPolicy(allow_private=True, timeout=(1, 0.5))
    message = refused(ref(f"{server}/slow?s=2"), tmp_path / "x", policy, UNREACHABLE)
    assert "in time" in message
    refused(ref(f"{server}/missing"), tmp_path / "x", LOCAL)
    refused(ref(f"{server}/broken"), tmp_path / "x", LOCAL, UNREACHABLE)
    refused(ref("http://127.0.0.1:1/closed"), tmp_path / "x", LOCAL, UNREACHABLE)
    message = refused(ref("http://no-such-host.invalid/"), tmp_path / "x", LOCAL)
    assert "resolve" in message
    refused(ref(""), tmp_path / "x", LOCAL, exc=InvalidParameterValue)


def test_file_references(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "a.txt").write_text("data")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, allowed / "link.txt")
    policy = FetchPolicy(allowed_input_paths=(str(allowed),), max_size=10)
    dest = tmp_path / "dest"
    fetch_reference(ref(f"file://{allowed}/a.txt"), dest, policy)
    assert dest.read_text() == "data"
    refused(ref(f"file://{allowed}/../secret.txt"), tmp_path / "x", policy)
    refused(ref(f"file://{allowed}/link.txt"), tmp_path / "x", policy)
    refused(ref(f"file://{allowed}/none.txt"), tmp_path / "x", policy)
    refused(ref(f"file://{allowed}"), tmp_path / "x", policy)
    refused(ref(f"file://otherhost{allowed}/a.txt"), tmp_path / "x", policy)
    refused(ref(f"file://{allowed}/a.txt"), tmp_path / "x", FetchPolicy())
    (allowed / "big.txt").write_text("x" * 11)
    refused(ref(f"file://{allowed}/big.txt"), tmp_path / "x", policy, TOO_BIG, SizeExceeded)


def test_address_classification():
    assert is_public_address("8.8.8.8") and is_public_address("2606:4700:4700::1111")
    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:10.0.0.1", "2002:7f00:1::1",
                    "255.255.255.255", "239.1.1.1", "::", "fe80::1%eth0"):
        assert not is_public_address(address), address


def test_check_url_returns_pinned_address(server):
    scheme, host, _port, address = check_url(f"{server}/data", LOCAL, "inp")
    assert (scheme, host, address) == ("http", "127.0.0.1", "127.0.0.1")


# ------------------------------------------------------------------------------------------------- HTTPS


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 whose certificate names only ``localhost``, signed by a throwaway CA."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=pywps test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", "/CN=localhost")
    (d / "ext").write_text("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                           "authorityKeyIdentifier=keyid\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "2", "-extfile", "ext")
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(d / "srv.pem", d / "srv.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], str(d / "ca.pem")
    httpd.shutdown()
    httpd.server_close()


def test_https_pinned_address_keeps_sni_and_certificate_check(tls_server, tmp_path):
    port, ca = tls_server
    policy = FetchPolicy(trusted_hosts=("localhost",), ca_bundle=ca, timeout=(2, 2))
    dest = tmp_path / "ok"
    fetch_reference(ref(f"https://localhost:{port}/echo"), dest, policy)
    assert json.loads(dest.read_text())["headers"]["Host"] == f"localhost:{port}"
    # the certificate does not name the address, so asking for it by address fails verification
    ip_policy = FetchPolicy(allow_private=True, ca_bundle=ca, timeout=(2, 2))
    message = refused(ref(f"https://127.0.0.1:{port}/data"), tmp_path / "x", ip_policy, UNREACHABLE)
    assert "cannot connect" in message
    # an unknown CA is refused
    refused(ref(f"https://localhost:{port}/data"), tmp_path / "x",
            FetchPolicy(trusted_hosts=("localhost",), timeout=(2, 2)), UNREACHABLE)
