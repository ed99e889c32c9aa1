"""/metrics (Prometheus text format) and /health, in-process and across the worker processes of gunicorn."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import requests

from pywps.metrics import HttpCounters, authorized
from tests.conftest import free_port, write_config
from tests.deploy.conftest import execute_url, job_id, submit, wait_final, wait_until
from tests.deploy.servers import gunicorn, wait_http

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """A strict reading of the text exposition format: every line a comment or a valid sample."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in typed, f"TYPE twice for {name}"
            typed.add(name)
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        samples.setdefault(match.group(1), []).append((labels, float(match.group(3))))
    return samples


def value(samples, name: str, **labels: str) -> float:
    found = [v for lbl, v in samples.get(name, []) if all(lbl.get(k) == x for k, x in labels.items())]
    return sum(found)


@pytest.fixture
def app_client(make_config):
    from pywps.processes import example_processes
    from pywps.service import create_app

    apps = []

    def make(**metrics: str):
        app = create_app(make_config(metrics=metrics) if metrics else make_config(), example_processes())
        apps.append(app)
        return app, app.test_client()

    yield make
    for app in apps:
        app.extensions["pywps"]["dispatcher"].stop()


def test_metrics_are_off_by_default(app_client):
    _, client = app_client()
    assert client.get("/metrics").status_code == 404


def test_metrics_token(app_client):
    _, client = app_client(enabled="true", token="s3cret-token")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and ok.content_type.startswith("text/plain; version=0.0.4")
    assert authorized("", None) and not authorized("x", "Basic x") and authorized("x", "bearer x")


def test_metrics_content(app_client):
    _, client = app_client(enabled="true")
    base = "/wps"
    assert client.get(f"{base}?service=WPS&request=GetCapabilities").status_code == 200
    assert client.get(execute_url(base, "say_hello", "name=m")).status_code == 200
    assert client.get(execute_url(base, "fail")).status_code == 200
    assert client.get(f"{base}?service=WPS&request=Nope").status_code == 501
    samples = parse(client.get("/metrics").get_data(as_text=True))
    assert value(samples, "pywps_jobs", status="succeeded", process="say_hello") == 1
    assert value(samples, "pywps_jobs", status="failed", process="fail") == 1
    assert value(samples, "pywps_queue_length") == 0
    assert value(samples, "pywps_http_requests_total", operation="GetCapabilities", status="200") == 1
    assert value(samples, "pywps_http_requests_total", operation="Execute", status="200") == 2
    assert value(samples, "pywps_http_requests_total", operation="unknown", status="501") == 1
    assert value(samples, "pywps_store_up") == 1
    buckets = [(lbl["le"], v) for lbl, v in samples["pywps_job_duration_seconds_bucket"]
               if lbl["process"] == "say_hello"]
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and buckets[-1] == ("+Inf", 1)
    assert value(samples, "pywps_job_duration_seconds_count", process="say_hello") == 1


def test_health_reports_store_backend_and_directories(app_client):
    app, client = app_client()
    report = client.get("/health").get_json()
    assert report["status"] == "ok" and report["store"]["status"] == "ok"
    assert report["backend"] == {"status": "ok", "mode": "multiprocessing"}
    outputs = app.extensions["pywps"]["config"].outputpath
    shutil.rmtree(outputs)
    outputs.write_text("not a directory")  # what an operator's mistake looks like
    bad = client.get("/health")
    assert bad.status_code == 503 and bad.get_json()["directories"][str(outputs)] == "not writable"


@pytest.mark.postgres
def test_health_reports_an_unreachable_store(tmp_path):
    import uuid

    import sqlalchemy as sa

    from pywps.config import load
    from pywps.processes import example_processes
    from pywps.service import create_app
    from tests.jobs.conftest import pg_base_url

    base = sa.make_url(pg_base_url())
    schema = f"health_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    app = create_app(load([write_config(tmp_path, logging={"database": url})]), example_processes())
    dispatcher = app.extensions["pywps"]["dispatcher"]
    dispatcher.stop()  # only /health is asked below (its view alone, so nothing restarts the dispatcher)

    def health():
        with app.test_request_context("/health"):
            return app.view_functions["health"]()

    try:
        assert health().status_code == 200
        with admin.begin() as conn:  # the job tables vanish from under the server
            conn.exec_driver_sql(f"ALTER SCHEMA {schema} RENAME TO {schema}_gone")
        bad = health()
        assert bad.status_code == 503 and bad.get_json()["store"]["status"] == "error"
    finally:
        dispatcher.stop()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema}_gone CASCADE")
        admin.dispose()


def test_counters_of_dead_processes_are_kept(tmp_path: Path):
    counters = HttpCounters(tmp_path)
    counters.count("Execute", 200)
    counters.flush()
    (tmp_path / "http-" f"{__import__('socket').gethostname()}-999999999.json").write_text('[["Execute", "200", 5]]')
    assert counters.totals()[("Execute", "200")] == 6
    assert not list(tmp_path.glob("*-999999999.json"))  # folded into the archive
    assert counters.totals()[("Execute", "200")] == 6


def test_metrics_add_up_across_gunicorn_workers(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port, server={"parallelprocesses": 1}, metrics={"enabled": "true"})
    server, url = gunicorn(cfg, tmp_path, port=port, workers=3)
    try:
        wait_http(server, f"{url}/health")
        for _ in range(12):  # new connections: spread over the workers
            assert requests.get(f"{url}/wps?service=WPS&request=GetCapabilities", timeout=30).status_code == 200
        locations = [submit(f"{url}/wps", "sleep", "delay=2") for _ in range(3)]
        samples = wait_until(lambda: (s := parse(requests.get(f"{url}/metrics", timeout=30).text))
                             and value(s, "pywps_jobs_running", backend="multiprocessing") == 1 and s, 20,
                             what="one job running")
        assert value(samples, "pywps_queue_length") == 2
        assert value(samples, "pywps_jobs", status="accepted", process="sleep") == 2
        time.sleep(1.5)  # each process writes its counters within a second
        for _ in range(5):  # whichever worker answers, the counters are the sum over all of them
            samples = parse(requests.get(f"{url}/metrics", timeout=30).text)
            assert value(samples, "pywps_http_requests_total", operation="GetCapabilities", status="200") == 12
            assert value(samples, "pywps_http_requests_total", operation="Execute", status="200") == 3
        for location in locations:
            wait_final(location, 60)
        samples = parse(requests.get(f"{url}/metrics", timeout=30).text)
        assert value(samples, "pywps_job_duration_seconds_count", process="sleep") == 3
        assert value(samples, "pywps_job_duration_seconds_bucket", process="sleep", le="1") == 0
        assert value(samples, "pywps_job_duration_seconds_bucket", process="sleep", le="5") == 3
        assert job_id(locations[0])
    finally:
        server.stop()
