"""The state machine table and JobRecord."""

from __future__ import annotations

import uuid

from pywps.jobs.model import FINAL, RUNNING, SOURCES, TRANSITIONS, JobRecord, JobStatus, can_transition


def test_every_state_has_a_row():
    assert set(TRANSITIONS) == set(JobStatus)


def test_final_states_go_nowhere():
    for s in FINAL:
        assert TRANSITIONS[s] == frozenset()
        assert not can_transition(s, JobStatus.STARTED)


def test_expected_edges():
    assert TRANSITIONS[JobStatus.ACCEPTED] == {JobStatus.STARTED, JobStatus.FAILED, JobStatus.DISMISSED}
    assert JobStatus.STARTED in TRANSITIONS[JobStatus.STARTED]          # progress
    assert JobStatus.ACCEPTED in TRANSITIONS[JobStatus.STARTED]         # requeue
    assert TRANSITIONS[JobStatus.PAUSED] == {JobStatus.STARTED, JobStatus.FAILED, JobStatus.DISMISSED}
    assert not can_transition("accepted", "succeeded")
    assert not can_transition("accepted", "paused")
    assert RUNNING == {JobStatus.STARTED, JobStatus.PAUSED}


def test_sources_inverts_transitions():
    for target, sources in SOURCES.items():
        for src in JobStatus:
            assert (src in sources) == (target in TRANSITIONS[src])


def test_new_record():
    job = JobRecord.new("hello", '{"identifier": "hello"}', True, "multiprocessing")
    assert str(uuid.UUID(job.id)) == job.id
    assert job.status is JobStatus.ACCEPTED and job.percent == 0
    assert job.created.tzinfo is not None and job.updated == job.created
    assert job.backend == "multiprocessing" and job.is_async
    assert not job.is_final and not job.is_running
    assert str(JobStatus.SUCCEEDED) == "succeeded"
