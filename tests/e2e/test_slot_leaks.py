"""No request can leak a slot: a failure injected at each step after admission ends the job (failed, with a
message), frees its slot, and later jobs run. Sync and async, with parallelprocesses = 1 so one leaked slot
would make every later Execute answer ServerBusy."""

from __future__ import annotations

import errno

import pytest
from sqlalchemy.exc import OperationalError

from pywps.jobs.handback import HandBack
from pywps.jobs.model import JobStatus
from tests.conftest import wait_for
from tests.handback_attacks import execute, final_document


@pytest.fixture
def client(make_client):
    return make_client(server={"parallelprocesses": 1})


def dispatcher_of(client):
    return client.application.extensions["pywps"]["dispatcher"]


def free(client) -> None:
    store = dispatcher_of(client).store
    wait_for(lambda: store.count(["accepted", "started", "paused"]) == 0, 30, 0.05)


def still_serves(client) -> None:
    """A later sync and async job both succeed: nothing stayed taken."""
    free(client)
    resp = execute(client, "say_hello", "name=next", asynchronous=False)
    assert resp.xpath_text("//wps:LiteralData") == "Hello next", resp.get_data(as_text=True)
    assert final_document(client, execute(client, "say_hello", "name=next")).xpath("//wps:ProcessSucceeded")
    free(client)


def failing_once(original, exc: BaseException, when=lambda *a, **k: True):
    state = {"done": False}

    def wrapper(*args, **kwargs):
        if not state["done"] and when(*args, **kwargs):
            state["done"] = True
            raise exc
        return original(*args, **kwargs)

    return wrapper


def last_job(client):
    return dispatcher_of(client).store.list(limit=1)[0]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_encoding_the_outputs_fails(client, monkeypatch, asynchronous):
    dispatcher = dispatcher_of(client)
    monkeypatch.setattr(dispatcher.results, "document", failing_once(
        dispatcher.results.document, ValueError("All strings must be XML compatible"),
        when=lambda job, process, request, status, **kw: status is JobStatus.SUCCEEDED))
    resp = execute(client, "say_hello", "name=x", asynchronous)
    doc = final_document(client, resp) if asynchronous else resp
    assert doc.xpath("//wps:ProcessFailed"), doc.get_data(as_text=True)
    assert "cannot be encoded" in doc.xpath_text("//ows:ExceptionText")
    still_serves(client)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_every_encoding_fails(client, monkeypatch, asynchronous):
    """Even when no document at all can be made, the job ends failed and its slot is free."""
    dispatcher = dispatcher_of(client)
    original = dispatcher.results.document
    broken = {"on": True}

    def render(job, process, request, status, **kw):
        if broken["on"] and status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            raise RuntimeError("encoder broken")
        return original(job, process, request, status, **kw)

    monkeypatch.setattr(dispatcher.results, "document", render)
    resp = execute(client, "say_hello", "name=x", asynchronous)
    if asynchronous:
        wait_for(lambda: last_job(client).status is JobStatus.FAILED, 30, 0.05)
    else:
        assert resp.status_code >= 400 and b"ExceptionReport" in resp.get_data()
    assert last_job(client).status is JobStatus.FAILED
    broken["on"] = False
    still_serves(client)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_publishing_fails(client, monkeypatch, asynchronous, tmp_path):
    where = str(tmp_path / "outputs")
    monkeypatch.setattr(HandBack, "publish", failing_once(
        HandBack.publish, OSError(errno.ENOSPC, "No space left on device", where)))
    resp = execute(client, "say_hello", "name=x", asynchronous)
    doc = final_document(client, resp) if asynchronous else resp
    assert doc.xpath("//wps:ProcessFailed"), doc.get_data(as_text=True)
    text = doc.xpath_text("//ows:ExceptionText")
    assert "No space left on device" in text and where in text
    still_serves(client)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_writing_the_status_document_fails(client, monkeypatch, asynchronous):
    dispatcher = dispatcher_of(client)
    monkeypatch.setattr(dispatcher.results, "write_static_status", failing_once(
        dispatcher.results.write_static_status, PermissionError(errno.EACCES, "Permission denied"),
        when=lambda job: job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)))
    execute(client, "say_hello", "name=x", asynchronous)
    if asynchronous:
        wait_for(lambda: last_job(client).status in (JobStatus.SUCCEEDED, JobStatus.FAILED), 30, 0.05)
    still_serves(client)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_store_fails_once_at_the_end(client, monkeypatch, asynchronous):
    dispatcher = dispatcher_of(client)
    monkeypatch.setattr(dispatcher.store, "transition", failing_once(
        dispatcher.store.transition, OperationalError("UPDATE jobs", {}, Exception("database is locked")),
        when=lambda job_id, status, **kw: JobStatus(status) is JobStatus.SUCCEEDED))
    resp = execute(client, "say_hello", "name=x", asynchronous)
    if asynchronous:  # retried on the next round: the job still succeeds
        assert final_document(client, resp).xpath("//wps:ProcessSucceeded")
    else:
        assert resp.status_code >= 400
        assert last_job(client).status is JobStatus.FAILED
    still_serves(client)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_backend_fails_while_waiting_or_polling(client, monkeypatch, asynchronous):
    dispatcher = dispatcher_of(client)
    if asynchronous:
        monkeypatch.setattr(dispatcher.backend, "poll_many", failing_once(
            dispatcher.backend.poll_many, RuntimeError("backend confused")))
        monkeypatch.setattr(dispatcher.supervisor, "_progress", failing_once(
            dispatcher.supervisor._progress, RuntimeError("progress broken")))
    else:
        monkeypatch.setattr(dispatcher.backend, "wait", failing_once(
            dispatcher.backend.wait, RuntimeError("backend confused")))
    resp = execute(client, "sleep", "delay=0.5", asynchronous)
    if asynchronous:
        final_document(client, resp)
    else:
        assert resp.status_code >= 400 and b"ExceptionReport" in resp.get_data()
        assert last_job(client).status is JobStatus.FAILED
    still_serves(client)


def test_a_failing_reference_fetch_leaves_no_job_directory(client, tmp_path):
    dispatcher = dispatcher_of(client)
    before = set(dispatcher.jobs_root.iterdir())
    resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=echo_complex"
                      "&DataInputs=input=@xlink:href=http://127.0.0.1:1/nothing@mimeType=text/plain")
    assert resp.status_code >= 400
    assert set(dispatcher.jobs_root.iterdir()) == before
    still_serves(client)
