"""The hand-back attacks in mode multiprocessing (the default), through the WSGI app and its dispatcher."""

from __future__ import annotations

import pytest

from pywps.processes import hostile
from tests.handback_attacks import (
    ATTACKS,
    PASSWORD,
    Host,
    check_output_cap,
    check_raw_swap,
    check_secrets_stay_home,
    database_url_with_password,
    execute,
    final_document,
    no_slot_taken,
    run_attack,
)


@pytest.fixture
def host(tmp_path):
    return Host.make(tmp_path)


@pytest.fixture
def attack_client(make_client):
    return make_client(hostile.testing_processes(), server={"maxoutputsize": "200k"})


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack(attack_client, host, attack):
    run_attack(attack_client, host, attack, strict_swaps=False)


def test_links_planted_in_files_are_not_published(attack_client, host):
    run_attack(attack_client, host, "link_abs", strict_swaps=False)
    outputs = attack_client.application.extensions["pywps"]["dispatcher"].config.outputpath
    assert not list(outputs.glob("*/leak_*"))


def test_files_replaced_by_a_link_is_refused_with_a_clear_message(attack_client, host):
    message = run_attack(attack_client, host, "files_link")
    assert "out/files is not a directory" in message


def test_raw_output_swap(attack_client, host):
    check_raw_swap(attack_client, host)


def test_output_size_cap(attack_client):
    check_output_cap(attack_client)


def test_a_fifo_result_never_blocks_other_jobs(attack_client, host):
    """After every attack, ordinary jobs still run, sync and async."""
    for attack in ("fifo_output", "files_link", "hardlink"):
        run_attack(attack_client, host, attack, strict_swaps=False)
    resp = execute(attack_client, "say_hello", "name=after", asynchronous=False)
    assert resp.xpath_text("//wps:LiteralData") == "Hello after"
    assert final_document(attack_client, execute(attack_client, "say_hello", "name=x")).xpath(
        "//wps:ProcessSucceeded")


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_no_secret_reaches_a_forked_job(make_client, db_url):
    client = make_client(hostile.testing_processes(), logging={"database": database_url_with_password(db_url)})
    seen = check_secrets_stay_home(client)
    assert not seen["config"]["logging"].get("database")


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("swap", ["fifo", "dev_zero"])
def test_a_result_swapped_after_the_runner_wrote_it_never_blocks(attack_client, monkeypatch, swap, asynchronous):
    """A forked job cannot outlive its result to swap it (the hostile process's thread dies with the child),
    so the swap is made here, between the runner's last write and the server's read: the job fails at once
    saying why, sync or async, and the next jobs run."""
    import os
    import threading

    results = attack_client.application.extensions["pywps"]["dispatcher"].results
    original, swapped = results.handback, []

    def swapping(job_id):
        back = original(job_id)
        result = back.outdir / "result.json"
        if not swapped and result.is_file() and not result.is_symlink():
            tmp = back.outdir / ".swap"
            if swap == "fifo":
                os.mkfifo(tmp)
            else:
                os.symlink("/dev/zero", tmp)
            os.replace(tmp, result)
            swapped.append(job_id)
        return back

    monkeypatch.setattr(results, "handback", swapping)
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault(
        "resp", execute(attack_client, "say_hello", "name=x", asynchronous)), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the server blocked on the swapped result.json"
    resp = box["resp"]
    final = final_document(attack_client, resp) if asynchronous else resp
    assert swapped and final.xpath("//wps:ProcessFailed"), final.get_data(as_text=True)
    expected = "not a regular file" if swap == "fifo" else "symbolic link"
    assert expected in final.xpath_text("//ows:ExceptionText")
    monkeypatch.setattr(results, "handback", original)
    resp = execute(attack_client, "say_hello", "name=after", asynchronous=False)
    assert resp.xpath_text("//wps:LiteralData") == "Hello after"
    no_slot_taken(attack_client)


@pytest.mark.parametrize("forkserver", ["true", "false"])
def test_no_configuration_override_reaches_a_forked_job(make_client, monkeypatch, forkserver):
    """A secret given to the server as ``PYWPS_<SECTION>_<KEY>`` is in no forked job's environment."""
    monkeypatch.setenv("PYWPS_METRICS_TOKEN", PASSWORD)
    client = make_client(hostile.testing_processes(), processing={"forkserver": forkserver})
    final = final_document(client, execute(client, "hostile_config", ""))
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)
    seen = final.xpath_text("//wps:Output/wps:Data/wps:LiteralData")
    assert '"environ"' in seen and PASSWORD not in seen


def test_links_inside_outputpath_are_never_served(attack_client, host):
    """A symlinked job directory or file planted under outputpath is not served; real outputs are."""
    import os
    import uuid

    dispatcher = attack_client.application.extensions["pywps"]["dispatcher"]
    final = final_document(attack_client, execute(attack_client, "hostile_handback", "attack=link_abs"))
    assert final.xpath("//wps:ProcessSucceeded")
    href = final.xpath("//wps:Reference/@href")[0]
    job_id, name = href.rsplit("/", 2)[1:]
    assert attack_client.get(f"/outputs/{job_id}/{name}").status_code == 200
    outputs = dispatcher.config.outputpath
    os.symlink(host.secret, outputs / job_id / "planted")
    fake = str(uuid.uuid4())
    os.symlink(host.secret.parent, outputs / fake)
    os.symlink(host.secret.parent, outputs / job_id / "dirlink")
    for path in (f"/outputs/{job_id}/planted", f"/outputs/{fake}/secret.txt", f"/outputs/{job_id}/dirlink",
                 f"/outputs/{job_id}/../{job_id}/{name}", "/outputs/not-a-job/x"):
        resp = attack_client.get(path)
        assert resp.status_code == 404, path
        assert b"host secret" not in resp.get_data()
