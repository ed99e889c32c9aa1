"""cProfile around this server's WSGI app, for finding where a request's time goes under gunicorn.

    PYWPS_CFG=... BENCH_PROFILE_DIR=/tmp/prof gunicorn -w 2 --pythonpath bench profile_wsgi:application
    python bench/profile_wsgi.py /tmp/prof/*.prof            # merged report, by cumulative time

Each worker profiles every request and rewrites ``BENCH_PROFILE_DIR/worker-PID.prof`` at most once a
second. Times are wall-clock (waiting shows), or the request thread's CPU time with
``BENCH_PROFILE_CLOCK=cpu``. Forked job processes and the dispatcher thread are not profiled.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import threading
import time
from pathlib import Path

_DIR = Path(os.environ.get("BENCH_PROFILE_DIR", "/tmp/pywps-profile"))


class Profiled:
    """WSGI middleware: profile every call of ``app`` (body iteration included) in one cProfile.Profile."""

    def __init__(self, app) -> None:
        self.app = app
        cpu = os.environ.get("BENCH_PROFILE_CLOCK") == "cpu"
        self.profile = cProfile.Profile(time.thread_time) if cpu else cProfile.Profile()
        self.lock = threading.Lock()
        self.last_dump = 0.0
        self.requests = 0

    def __call__(self, environ, start_response):
        with self.lock:
            self.profile.enable()
            try:
                body = b"".join(self.app(environ, start_response))
            finally:
                self.profile.disable()
            self.requests += 1
            now = time.monotonic()
            if now - self.last_dump > 1:
                self.last_dump = now
                _DIR.mkdir(parents=True, exist_ok=True)
                self.profile.dump_stats(_DIR / f"worker-{os.getpid()}.prof")
        return [body]


def _application():
    from pywps.wsgi import application as app

    return Profiled(app)


if __name__ == "__main__":
    files = sys.argv[1:] or [str(p) for p in _DIR.glob("*.prof")]
    stats = pstats.Stats(*files)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
else:
    application = _application()
