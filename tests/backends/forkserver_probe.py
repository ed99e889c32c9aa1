"""Processes for tests/backends/test_forkserver.py: what a job forked by the zygote sees of its parent."""

from __future__ import annotations

import json
import os
import resource
import sys

from pywps import LiteralInput, LiteralOutput, Process

WEB_STACK = ("flask", "werkzeug", "sqlalchemy", "jinja2", "docker", "pywps.service", "pywps.jobs.store",
             "pywps.dispatcher")


def _report() -> dict:
    from pywps import configuration

    config = configuration.get_config()
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as handle:
        parent = handle.read().replace(b"\0", b" ").decode(errors="replace")
    return {
        "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0), "pgid": os.getpgid(0),
        "parent_cmdline": parent,
        "web_stack": sorted(m for m in sys.modules if m.split(".")[0] in WEB_STACK or m in WEB_STACK),
        "config": {name: dict(config.parser.items(name, raw=True)) for name in config.parser.sections()},
        "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
        "environ_has_cfg": "PYWPS_CFG" in os.environ,
    }


class Probe(Process):
    """Reports the job process: its parent, session, loaded modules, configuration and limits."""

    def __init__(self, greeting: str = "probe") -> None:
        self.greeting = greeting
        super().__init__(self._handler, identifier="zygote_probe", title="Where does this job run?",
                         inputs=[LiteralInput("tag", "Anything", data_type="string", min_occurs=0, default="")],
                         outputs=[LiteralOutput("report", "JSON", data_type="string")],
                         store_supported=True, status_supported=True)

    def _handler(self, request, response):
        report = _report()
        report["greeting"] = self.greeting
        response.outputs["report"].data = json.dumps(report)
        return response


def processes() -> list:
    return [Probe()]
