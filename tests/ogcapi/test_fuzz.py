"""Random execute documents and bodies: a JSON answer below 500, never a job left behind by a refusal."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywps.processes import example_processes
from tests.ogcapi.conftest import Api
from tests.ogcapi.schemas import check

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
NAMES = st.sampled_from(["a", "b", "name", "input", "bbox", "delay", "text", "zz"])
DOCUMENTS = st.fixed_dictionaries({}, optional={
    "inputs": st.dictionaries(NAMES, JSON, max_size=3) | JSON,
    "outputs": st.dictionaries(st.sampled_from(["sum", "output", "bbox", "x"]), JSON, max_size=2) | JSON,
    "response": st.sampled_from(["raw", "document", "other"]) | JSON,
    "subscriber": JSON,
})
PROCESSES = st.sampled_from(["add", "say_hello", "echo_complex", "echo_binary", "echo_bbox", "multiple_outputs"])


def test_random_execute_documents(make_client):
    api = Api(make_client(example_processes()))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(process=PROCESSES, document=DOCUMENTS, asynchronous=st.booleans())
    def run(process, document, asynchronous):
        before = api.job_count()
        resp = api.execute(process, document, asynchronous=asynchronous)
        assert resp.status_code < 500, resp.get_data(as_text=True)
        if resp.status_code >= 400:
            check("exception", json.loads(resp.get_data()))
            assert api.job_count() == before

    run()


def test_random_bodies(make_client):
    api = Api(make_client(example_processes()))

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=st.binary(max_size=200))
    def run(body):
        resp = api.execute("add", raw=body)
        assert 400 <= resp.status_code < 500 or resp.status_code == 200
        assert api.job_count() == 0 or resp.status_code == 200

    run()
