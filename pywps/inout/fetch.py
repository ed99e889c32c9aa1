"""SSRF-safe fetching of reference inputs: scheme, host and address checks, pinned connections, size caps."""

from __future__ import annotations

import io
import ipaddress
import logging
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from pywps.exceptions import DataNotAccessible, InvalidParameterValue, SizeExceeded

if TYPE_CHECKING:
    from pywps.requestmodel import InputValue

log = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """What a reference input may point at and how much may be read.

    ``ca_bundle``: CA certificates for HTTPS (default: certifi's bundle).
    ``allowed_hosts``: when non-empty only these host names may be fetched (``.example.org`` or
    ``*.example.org`` also match subdomains). ``trusted_hosts`` (same patterns) may resolve to private
    addresses even when ``allow_private`` is false. ``allowed_input_paths``: directories under which
    ``file://`` references are accepted.
    ``timeout``: (connect, read) seconds; ``deadline``: seconds for a whole fetch; ``max_size``: bytes, 0 =
    unlimited.
    """

    allowed_schemes: tuple[str, ...] = ("http", "https")
    allow_private: bool = False
    allowed_hosts: tuple[str, ...] = ()
    allowed_input_paths: tuple[str, ...] = ()
    timeout: tuple[float, float] = (5, 30)
    max_size: int = 0
    max_redirects: int = 3
    deadline: float = 600.0
    trusted_hosts: tuple[str, ...] = ()
    ca_bundle: str | None = None


def fetch_reference(value: InputValue, dest: Path, policy: FetchPolicy) -> Path:
    """Fetch the reference input ``value`` into the file ``dest`` under ``policy``; return ``dest``."""
    identifier = value.identifier
    if not value.href:
        raise InvalidParameterValue(f"Input {identifier!r} has no reference URL", locator=identifier)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        scheme = urlsplit(value.href).scheme.lower()
    except ValueError as exc:
        raise _refused(identifier, f"malformed URL ({exc})") from None
    try:
        if scheme == "file":
            _copy_file(value.href, dest, policy, identifier)
            return dest
        body: bytes | None = None
        if value.body is not None:
            body = value.body.encode("utf-8")
        elif value.body_reference:
            buffer = io.BytesIO()
            _download(value.body_reference, "GET", {}, None, buffer, policy, identifier)
            body = buffer.getvalue()
        with open(dest, "wb") as sink:
            _download(value.href, value.method or "GET", dict(value.headers), body, sink, policy, identifier)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest


# ---------------------------------------------------------------------------------------------- checks


def _refused(identifier: str, why: str) -> DataNotAccessible:
    """The server will not fetch this reference (scheme, host, address, path): a client error."""
    return DataNotAccessible(f"Reference of input {identifier!r} refused: {why}", locator=identifier)


def _unreachable(identifier: str, why: str) -> DataNotAccessible:
    """The referenced server failed (no answer, too slow, 5xx): NoApplicableCode 500 to a WPS 1.0.0 client,
    DataNotAccessible 400 to a WPS 2.0.0 one."""
    return DataNotAccessible(f"Reference of input {identifier!r}: {why}", locator=identifier, code=500,
                             ows_code="NoApplicableCode")


def is_public_address(address: str) -> bool:
    """True when an IP address is globally routable unicast (not private, loopback, link-local ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        return all(e is None or is_public_address(str(e)) for e in embedded)
    return True


def host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    """True when ``host`` equals a pattern, or is a subdomain of a ``.domain``/``*.domain`` pattern."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.strip().lower().rstrip(".")
        if pattern.startswith("*."):
            pattern = pattern[1:]
        if host == pattern or (pattern.startswith(".") and (host.endswith(pattern) or host == pattern[1:])):
            return True
    return False


def _resolve(host: str, port: int, identifier: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DataNotAccessible(
            f"Reference of input {identifier!r}: cannot resolve host {host!r} ({exc})", locator=identifier
        ) from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DataNotAccessible(f"Reference of input {identifier!r}: host {host!r} has no address",
                                locator=identifier)
    return addresses


def check_url(url: str, policy: FetchPolicy, identifier: str = "") -> tuple[str, str, int, str]:
    """Check a URL against the policy; return (scheme, host, port, address to connect to)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refused(identifier, f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in policy.allowed_schemes or scheme not in ("http", "https"):
        raise _refused(identifier, f"scheme {scheme or 'none'!r} is not allowed")
    host = parts.hostname
    if not host:
        raise _refused(identifier, "the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    if policy.allowed_hosts and not host_matches(host, policy.allowed_hosts):
        raise _refused(identifier, f"host {host!r} is not in the list of allowed hosts")
    addresses = _resolve(host, port, identifier)
    if not (policy.allow_private or host_matches(host, policy.trusted_hosts)):
        for address in addresses:
            if not is_public_address(address):
                raise _refused(identifier, f"host {host!r} resolves to the non-public address {address}")
    return scheme, host, port, addresses[0]


# ---------------------------------------------------------------------------------------------- HTTP


def _pool(scheme: str, host: str, port: int, address: str, policy: FetchPolicy) -> urllib3.HTTPConnectionPool:
    """A connection pool pinned to the checked address, speaking to ``host`` (Host header, SNI, cert)."""
    timeout = urllib3.Timeout(connect=policy.timeout[0], read=policy.timeout[1])
    if scheme == "https":
        ca_certs = policy.ca_bundle
        if not ca_certs:
            import certifi

            ca_certs = certifi.where()
        return urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, maxsize=1, server_hostname=host,
            assert_hostname=host, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs,
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)


def _download(url: str, method: str, headers: dict[str, str], body: bytes | None, sink: BinaryIO,
              policy: FetchPolicy, identifier: str) -> None:
    """Request ``url``, following at most ``max_redirects`` checked redirects; stream the body to ``sink``."""
    deadline = time.monotonic() + policy.deadline
    method = method.upper()
    for _hop in range(policy.max_redirects + 1):
        scheme, host, port, address = check_url(url, policy, identifier)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = 443 if scheme == "https" else 80
        host_header = f"[{host}]" if ":" in host else host
        if port != default_port:
            host_header = f"{host_header}:{port}"
        send = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        send["Host"] = host_header
        send.setdefault("User-Agent", "PyWPS")
        pool = _pool(scheme, host, port, address, policy)
        try:
            response = pool.urlopen(method, target, body=body, headers=send, redirect=False, retries=False,
                                    preload_content=False, assert_same_host=False)
        except Urllib3Timeout:
            pool.close()
            raise _unreachable(identifier, f"{host} did not answer in time") from None
        except (Urllib3Error, OSError) as exc:
            pool.close()
            raise _unreachable(identifier, f"cannot connect to {host} ({exc})") from None
        try:
            if response.status in REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise DataNotAccessible(
                        f"Reference of input {identifier!r}: redirect without a Location", locator=identifier)
                url = urljoin(url, location)
                if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                log.debug("reference %s of input %s redirects to %s", parts.geturl(), identifier, url)
                continue
            if response.status >= 500:
                raise _unreachable(identifier, f"{host} answered HTTP {response.status}")
            if response.status >= 400:
                raise DataNotAccessible(f"Reference of input {identifier!r}: {host} answered HTTP {response.status}",
                                        locator=identifier)
            _stream(response, sink, policy, identifier, deadline)
            return
        finally:
            response.release_conn()
            pool.close()
    raise _refused(identifier, f"more than {policy.max_redirects} redirects")


def _too_big(identifier: str, limit: int) -> SizeExceeded:
    return SizeExceeded(f"Reference of input {identifier!r} is larger than the maximum of {limit} bytes",
                        locator=identifier)


def _stream(response: urllib3.HTTPResponse, sink: BinaryIO, policy: FetchPolicy, identifier: str,
            deadline: float) -> None:
    """Copy a response body, counting bytes (decoded), never trusting Content-Length."""
    limit = policy.max_size
    declared = response.headers.get("Content-Length")
    if limit and declared and declared.isdigit() and int(declared) > limit:
        raise _too_big(identifier, limit)
    count = 0
    try:
        for chunk in response.stream(CHUNK, decode_content=True):
            count += len(chunk)
            if limit and count > limit:
                raise _too_big(identifier, limit)
            if time.monotonic() > deadline:
                raise _unreachable(identifier, f"the transfer took longer than {policy.deadline}s")
            sink.write(chunk)
    except Urllib3Timeout:
        raise _unreachable(identifier, "the server stopped sending") from None
    except (Urllib3Error, OSError) as exc:
        raise _unreachable(identifier, f"transfer failed ({exc})") from None


# ---------------------------------------------------------------------------------------------- file://


def _copy_file(href: str, dest: Path, policy: FetchPolicy, identifier: str) -> None:
    """Copy a ``file://`` reference that resolves (symlinks included) under an allowed input path."""
    parts = urlsplit(href)
    if parts.netloc not in ("", "localhost"):
        raise _refused(identifier, "file URLs must not name a host")
    if not policy.allowed_input_paths:
        raise _refused(identifier, "file references are not allowed")
    try:
        path = Path(unquote(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError):
        raise _refused(identifier, "the file does not exist") from None
    roots = []
    for root in policy.allowed_input_paths:
        try:
            roots.append(Path(root).resolve(strict=True))
        except (OSError, RuntimeError):
            continue
    if not any(path == root or path.is_relative_to(root) for root in roots):
        raise _refused(identifier, "the file is outside the allowed input paths")
    if not path.is_file():
        raise _refused(identifier, "not a regular file")
    if policy.max_size and path.stat().st_size > policy.max_size:
        raise _too_big(identifier, policy.max_size)
    with open(path, "rb") as source, open(dest, "wb") as sink:
        if policy.max_size:
            copied = 0
            while chunk := source.read(CHUNK):
                copied += len(chunk)
                if copied > policy.max_size:
                    raise _too_big(identifier, policy.max_size)
                sink.write(chunk)
        else:
            shutil.copyfileobj(source, sink, CHUNK)
    os.chmod(dest, 0o644)
