"""``mode = scheduler``: each job is a batch job on a cluster that shares the job directory with the server.

The server writes ``in/batch.sh`` into the job directory and submits it; on a compute node it runs
``SCHEDULER_PYTHON -m pywps.worker JOBDIR``, which writes status, result and output files back into the
same directory. Two submitters: ``slurm`` (sbatch/squeue/scancel, optionally sacct) and ``drmaa`` (the
``drmaa`` package over any DRMAA 1.0 library, e.g. Grid Engine's). Handles look like
``slurm:BATCH_ID:JOBDIR``, so a restarted server can follow and cancel jobs it did not submit.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pywps.backends.base import Processing, RunnerState, RunnerStatus, RunnerUnavailable, register
from pywps.exceptions import ConfigurationError, OptionNotSupported
from pywps.jobs.handback import HandBack, xml_safe
from pywps.jobs.jobdir import JobDir, job_environment

if TYPE_CHECKING:
    from pywps.config import ProcessingSettings
    from pywps.jobs.model import JobRecord

log = logging.getLogger(__name__)

BATCH_SCRIPT = "batch.sh"       # in in/
BATCH_LOG = "batch.log"         # in out/: the batch job's stdout and stderr
COMMAND_TIMEOUT = 60.0

# Scheduler state words (Slurm's; the DRMAA submitter translates into them) and what they mean.
PENDING_STATES = frozenset({"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
                            "RESV_DEL_HOLD", "SPECIAL_EXIT", "RESIZING", "SIGNALING", "POWER_UP_NODE"})
RUNNING_STATES = frozenset({"RUNNING", "COMPLETING", "STAGE_OUT"})
PAUSED_STATES = frozenset({"SUSPENDED", "STOPPED"})
END_MESSAGES: dict[str, str] = {
    "COMPLETED": "",
    "FAILED": "the batch job failed",
    "CANCELLED": "cancelled by the scheduler",
    "TIMEOUT": "time limit reached on the cluster",
    "DEADLINE": "deadline reached on the cluster",
    "NODE_FAIL": "node failure",
    "BOOT_FAIL": "node failure (the node did not boot)",
    "OUT_OF_MEMORY": "out of memory on the cluster",
    "PREEMPTED": "preempted by the scheduler",
    "REVOKED": "revoked by the scheduler (the job ran on another cluster)",
}


@dataclass(frozen=True)
class BatchState:
    """What the scheduler says about one batch job: its state word and whatever detail it gave."""

    state: str
    exit_code: int | None = None
    reason: str = ""
    time_limit: str = ""
    memory: str = ""
    nodes: str = ""

    @property
    def ended(self) -> bool:
        return self.state in END_MESSAGES


@dataclass(frozen=True)
class SchedulerOptions:
    """``[processing] scheduler_*`` settings, parsed once."""

    submitter: str = "slurm"
    partition: str = ""
    account: str = ""
    time_limit: str = ""
    memory: int = 0                              # bytes; 0 = the cluster's default
    extra_options: tuple[str, ...] = ()
    python: str = sys.executable
    pythonpath: str = ""
    sync: str = "wait"                           # wait | refuse
    poll_interval: float = 0.5                   # for a synchronous wait
    query_interval: float = 1.0                  # at most one squeue per this many seconds
    command_timeout: float = COMMAND_TIMEOUT
    slurm_conf: str = ""
    environment: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def from_settings(cls, p: ProcessingSettings) -> SchedulerOptions:
        """The scheduler fields of ``[processing]`` (parsed by ``pywps.config``), checked."""
        submitter = p.scheduler.strip().lower() or "slurm"
        if submitter not in SUBMITTERS:
            raise ConfigurationError(f"[processing] scheduler = {submitter!r} is unknown; "
                                     f"choose one of: {', '.join(sorted(SUBMITTERS))}")
        sync = p.scheduler_sync.strip().lower() or "wait"
        if sync not in ("wait", "refuse"):
            raise ConfigurationError(f"[processing] scheduler_sync = {sync!r}: choose wait or refuse")
        extra = p.scheduler_extra_options or (p.drmaa_native_specification if submitter == "drmaa" else "")
        pythonpath = p.scheduler_pythonpath
        if not pythonpath and not p.scheduler_python:
            pythonpath = str(Path(__file__).resolve().parents[2])   # this installation, as the server runs it
        env = []
        for item in shlex.split(p.scheduler_environment):
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise ConfigurationError(f"[processing] scheduler_environment: {item!r} is not NAME=VALUE")
            env.append((name, value))
        return cls(submitter=submitter, partition=p.scheduler_partition, account=p.scheduler_account,
                   time_limit=p.scheduler_time_limit, memory=p.scheduler_memory,
                   extra_options=tuple(shlex.split(extra)), python=p.scheduler_python or sys.executable,
                   pythonpath=pythonpath, sync=sync, poll_interval=max(0.05, p.scheduler_poll_interval or 0.5),
                   query_interval=max(0.0, p.scheduler_query_interval),
                   command_timeout=p.scheduler_command_timeout or COMMAND_TIMEOUT,
                   slurm_conf=p.scheduler_slurm_conf, environment=tuple(env))


class SubmitError(RuntimeError):
    """The scheduler refused a submission or could not be reached."""

    # what the clients print when the controller is down or busy, rather than refusing the job
    _UNREACHABLE = ("unable to contact", "socket timed out", "connection refused", "did not answer",
                    "temporarily unable", "transient", "communication", "cannot connect", "not responding",
                    "try again", "drm communication")

    @property
    def unreachable(self) -> bool:
        """Whether the batch system could not be reached (try again later) rather than refusing the job."""
        text = str(self).lower()
        return any(word in text for word in self._UNREACHABLE)


class Submitter(ABC):
    """Talks to one kind of batch system: submit a script, ask for states, cancel."""

    kind: ClassVar[str]

    def __init__(self, options: SchedulerOptions) -> None:
        self.options = options

    def check(self) -> None:
        """Raise ``ConfigurationError`` if the batch system cannot be used from here."""

    @abstractmethod
    def submit(self, script: Path, jobdir: JobDir, name: str, job_id: str) -> str:
        """Submit ``script`` to run in ``jobdir``; return the batch system's job id."""

    @abstractmethod
    def query(self, batch_ids: list[str]) -> dict[str, BatchState] | None:
        """States of the jobs the batch system still knows (missing ids are unknown); None if unreachable."""

    def details(self, batch_id: str) -> BatchState | None:
        """A closer look at one ended job (exit code), when the cheap query left it out."""
        return None

    @abstractmethod
    def cancel(self, batch_id: str) -> None:
        """Remove a pending job or kill a running one; idempotent."""


class SlurmSubmitter(Submitter):
    """Slurm through its commands: ``sbatch --parsable``, ``squeue -t all``, ``scancel`` (+ ``sacct``)."""

    kind = "slurm"
    _FORMAT = "%i|%T|%r|%l|%m|%N"

    def __init__(self, options: SchedulerOptions) -> None:
        super().__init__(options)
        self._accounting: bool | None = None

    def _env(self) -> dict[str, str]:
        """The commands' environment, which sbatch exports to the batch job (``--export=ALL``): the server's
        without its configuration overrides (``PYWPS_LOGGING_DATABASE`` may hold a password)."""
        env = job_environment(os.environ)
        if self.options.slurm_conf:
            env["SLURM_CONF"] = self.options.slurm_conf
        return env

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(args, capture_output=True, text=True, env=self._env(),
                                    timeout=self.options.command_timeout, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise SubmitError(f"{args[0]}: command not found (is the Slurm client installed?)") from None
        except subprocess.TimeoutExpired:
            raise SubmitError(f"{args[0]} did not answer within {self.options.command_timeout:g} s") from None
        if check and result.returncode != 0:
            raise SubmitError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[:500]}")
        return result

    def check(self) -> None:
        for command in ("sbatch", "squeue", "scancel"):
            if not _which(command):
                raise ConfigurationError(f"[processing] scheduler = slurm: {command} is not on PATH")
        try:
            self._run(["squeue", "-h", "-j", "0", "-o", "%i"], check=False)
        except SubmitError as exc:
            raise ConfigurationError(f"[processing] scheduler = slurm: {exc}") from None

    def sbatch_args(self, script: Path, jobdir: JobDir, name: str, job_id: str) -> list[str]:
        """The full sbatch command line for one job."""
        opts = self.options
        args = ["sbatch", "--parsable", "-J", name, "-o", str(jobdir.outdir / BATCH_LOG),
                "-D", str(jobdir.path), f"--comment=pywps:{job_id}"]
        if opts.partition:
            args += ["-p", opts.partition]
        if opts.account:
            args += ["-A", opts.account]
        if opts.time_limit:
            args += ["-t", opts.time_limit]
        if opts.memory:
            args += [f"--mem={max(1, opts.memory // (1024 * 1024))}M"]
        return args + list(opts.extra_options) + [str(script)]

    def submit(self, script: Path, jobdir: JobDir, name: str, job_id: str) -> str:
        result = self._run(self.sbatch_args(script, jobdir, name, job_id))
        batch_id = result.stdout.strip().splitlines()[-1].split(";")[0].strip() if result.stdout.strip() else ""
        if not batch_id:
            raise SubmitError(f"sbatch printed no job id: {result.stderr.strip()[:300]}")
        return batch_id

    def query(self, batch_ids: list[str]) -> dict[str, BatchState] | None:
        states: dict[str, BatchState] = {}
        for start in range(0, len(batch_ids), 500):
            chunk = batch_ids[start:start + 500]
            try:
                result = self._run(["squeue", "-h", "-t", "all", "-j", ",".join(chunk), "-o", self._FORMAT],
                                   check=False)
            except SubmitError as exc:
                log.warning("cannot ask Slurm for job states: %s", exc)
                return None
            if result.returncode != 0:
                if "Invalid job id" in result.stderr:
                    continue   # none of these is known any more
                log.warning("squeue failed (%s): %s", result.returncode, result.stderr.strip()[:300])
                return None
            for line in result.stdout.splitlines():
                parts = line.strip().split("|")
                if len(parts) < 6:
                    continue
                batch_id, state, reason, limit, memory, nodes = parts[:6]
                states[batch_id] = BatchState(state.split()[0].rstrip("+"), None, reason, limit, memory, nodes)
        missing = [b for b in batch_ids if b not in states]
        if missing and self.accounting():
            states.update(self._sacct(missing))
        return states

    def accounting(self) -> bool:
        """Whether the cluster keeps accounting (so ``sacct`` knows jobs squeue forgot)."""
        if self._accounting is None:
            try:
                result = self._run(["scontrol", "show", "config"], check=False)
                line = next((x for x in result.stdout.splitlines() if x.startswith("AccountingStorageType")), "")
                self._accounting = bool(line) and not line.rstrip().endswith("accounting_storage/none") \
                    and _which("sacct") is not None
            except SubmitError:
                return False
        return self._accounting

    def _sacct(self, batch_ids: list[str]) -> dict[str, BatchState]:
        try:
            result = self._run(["sacct", "-n", "-P", "-X", "-j", ",".join(batch_ids),
                                "-o", "JobIDRaw,State,ExitCode,Timelimit,ReqMem,NodeList"], check=False)
        except SubmitError:
            return {}
        states = {}
        for line in result.stdout.splitlines():
            parts = line.strip().split("|")
            if len(parts) < 6 or parts[0] not in batch_ids:
                continue
            code = _exit_code(parts[2])
            states[parts[0]] = BatchState(parts[1].split()[0].rstrip("+"), code, "", parts[3], parts[4], parts[5])
        return states

    def details(self, batch_id: str) -> BatchState | None:
        try:
            result = self._run(["scontrol", "show", "job", "-o", batch_id], check=False)
        except SubmitError:
            return None
        if result.returncode != 0 or not result.stdout.strip():
            return None
        fields = dict(item.split("=", 1) for item in result.stdout.split() if "=" in item)
        return BatchState(fields.get("JobState", "UNKNOWN"), _exit_code(fields.get("ExitCode", "")),
                          fields.get("Reason", ""), fields.get("TimeLimit", ""), "", fields.get("NodeList", ""))

    def cancel(self, batch_id: str) -> None:
        try:
            result = self._run(["scancel", batch_id], check=False)
        except SubmitError as exc:
            log.warning("scancel %s: %s", batch_id, exc)
            return
        if result.returncode != 0:
            log.info("scancel %s: %s", batch_id, result.stderr.strip()[:300])


class DrmaaSubmitter(Submitter):
    """Any DRMAA 1.0 library (Grid Engine, PBS, LSF ...) through the ``drmaa`` package.

    Needs ``DRMAA_LIBRARY_PATH`` (and what the library itself needs, e.g. ``SGE_ROOT``) in the server's
    environment. DRMAA has no bulk query: ``query`` asks the library once per job (no process is forked).
    """

    kind = "drmaa"

    def __init__(self, options: SchedulerOptions) -> None:
        super().__init__(options)
        self._session: Any = None
        self._lock = threading.Lock()
        self._ended: dict[str, BatchState] = {}

    def _drmaa(self) -> Any:
        try:
            import drmaa
        except (ImportError, OSError, RuntimeError) as exc:
            raise ConfigurationError(f"[processing] scheduler = drmaa: cannot load the drmaa package or its "
                                     f"library (DRMAA_LIBRARY_PATH): {exc}") from None
        return drmaa

    def _open(self) -> Any:
        with self._lock:
            if self._session is None:
                drmaa = self._drmaa()
                session = drmaa.Session()
                try:
                    session.initialize()
                except drmaa.errors.AlreadyActiveSessionException:
                    pass
                self._session = session
            return self._session

    def check(self) -> None:
        try:
            self._open()
        except ConfigurationError:
            raise
        except Exception as exc:  # noqa: BLE001 - any library error means the backend cannot work
            raise ConfigurationError(f"[processing] scheduler = drmaa: cannot open a DRMAA session: {exc}") from None

    def native_specification(self) -> str:
        """Queue, limits and extra options in the DRM's own syntax (Grid Engine's qsub flags by default)."""
        opts = self.options
        spec: list[str] = []
        if opts.partition:
            spec += ["-q", opts.partition]
        if opts.account:
            spec += ["-A", opts.account]
        if opts.time_limit:
            spec += ["-l", f"h_rt={_hms(opts.time_limit)}"]
        if opts.memory:
            spec += ["-l", f"h_vmem={max(1, opts.memory // (1024 * 1024))}M"]
        return shlex.join(spec + list(opts.extra_options))

    def submit(self, script: Path, jobdir: JobDir, name: str, job_id: str) -> str:
        session = self._open()
        template = session.createJobTemplate()
        try:
            template.remoteCommand = "/bin/sh"
            template.args = [str(script)]
            template.jobName = name
            template.workingDirectory = str(jobdir.path)
            template.outputPath = ":" + str(jobdir.outdir / BATCH_LOG)
            template.joinFiles = True
            spec = self.native_specification()
            if spec:
                template.nativeSpecification = spec
            try:
                return str(session.runJob(template))
            except Exception as exc:  # noqa: BLE001 - the library's own exception types
                raise SubmitError(f"DRMAA refused the job: {exc}") from None
        finally:
            session.deleteJobTemplate(template)

    def query(self, batch_ids: list[str]) -> dict[str, BatchState] | None:
        drmaa = self._drmaa()
        session = self._open()
        words = {
            drmaa.JobState.QUEUED_ACTIVE: "PENDING", drmaa.JobState.SYSTEM_ON_HOLD: "PENDING",
            drmaa.JobState.USER_ON_HOLD: "PENDING", drmaa.JobState.USER_SYSTEM_ON_HOLD: "PENDING",
            drmaa.JobState.RUNNING: "RUNNING", drmaa.JobState.SYSTEM_SUSPENDED: "SUSPENDED",
            drmaa.JobState.USER_SUSPENDED: "SUSPENDED", drmaa.JobState.USER_SYSTEM_SUSPENDED: "SUSPENDED",
        }
        states: dict[str, BatchState] = {}
        for batch_id in batch_ids:
            if batch_id in self._ended:
                states[batch_id] = self._ended[batch_id]
                continue
            try:
                status = session.jobStatus(batch_id)
            except drmaa.errors.InvalidJobException:
                continue
            except Exception as exc:  # noqa: BLE001
                log.warning("DRMAA cannot tell the state of job %s: %s", batch_id, exc)
                return None
            if status in words:
                states[batch_id] = BatchState(words[status])
            elif status in (drmaa.JobState.DONE, drmaa.JobState.FAILED):
                states[batch_id] = self._reap(session, batch_id, status == drmaa.JobState.DONE)
            else:
                states[batch_id] = BatchState("PENDING", reason=str(status))
        return states

    def _reap(self, session: Any, batch_id: str, done: bool) -> BatchState:
        """Collect an ended job's exit information (possible once, for jobs of this session)."""
        drmaa = self._drmaa()
        try:
            info = session.wait(batch_id, drmaa.Session.TIMEOUT_NO_WAIT)
        except Exception:  # noqa: BLE001 - not our session's job, or already reaped
            state = BatchState("COMPLETED" if done else "FAILED")
        else:
            if info.wasAborted:
                state = BatchState("CANCELLED", None, "aborted before or while running")
            elif info.hasSignal:
                signal = str(info.terminatedSignal)
                limit = _seconds(self.options.time_limit) if self.options.time_limit else 0
                try:
                    wallclock = float(info.resourceUsage.get("ru_wallclock", 0))
                except (TypeError, ValueError, AttributeError):
                    wallclock = 0.0
                if limit and wallclock >= limit:
                    state = BatchState("TIMEOUT", None, f"killed by {signal}", _hms(self.options.time_limit))
                else:
                    state = BatchState("FAILED", None, f"killed by {signal}")
            elif info.hasExited:
                code = int(info.exitStatus)
                state = BatchState("COMPLETED" if code == 0 else "FAILED", code)
            else:
                state = BatchState("COMPLETED" if done else "FAILED")
        self._ended[batch_id] = state
        return state

    def cancel(self, batch_id: str) -> None:
        drmaa = self._drmaa()
        try:
            self._open().control(batch_id, drmaa.JobControlAction.TERMINATE)
        except Exception as exc:  # noqa: BLE001 - already gone is fine
            log.info("DRMAA terminate %s: %s", batch_id, exc)

    def forget(self, batch_id: str) -> None:
        self._ended.pop(batch_id, None)


SUBMITTERS: dict[str, type[Submitter]] = {"slurm": SlurmSubmitter, "drmaa": DrmaaSubmitter}


@register
class Scheduler(Processing):
    """Run each job as a batch job (Slurm or DRMAA) on a cluster sharing the job directory."""

    name = "scheduler"

    def __init__(self, settings: ProcessingSettings) -> None:
        super().__init__(settings)
        self.options = SchedulerOptions.from_settings(settings)
        self.wait_interval = self.options.poll_interval
        self.submitter: Submitter = SUBMITTERS[self.options.submitter](self.options)
        self._lock = threading.Lock()
        self._seen: dict[str, BatchState] = {}        # last state the scheduler told us, per batch id
        self._cancelled: set[str] = set()             # batch ids this server cancelled
        self._exit_codes: dict[str, int] = {}         # exit codes looked up once for ended jobs
        self._last_query = 0.0

    @property
    def accepts_sync(self) -> bool:
        """Whether a synchronous Execute may wait for a batch job (``scheduler_sync = wait``)."""
        return self.options.sync == "wait"

    def check(self) -> None:
        self.submitter.check()

    # -- handles ---------------------------------------------------------------------------------

    def _handle(self, batch_id: str, jobdir: JobDir) -> str:
        return f"{self.submitter.kind}:{batch_id}:{jobdir.path}"

    @staticmethod
    def parse_handle(handle: str) -> tuple[str, str, JobDir]:
        """``kind:batch_id:jobdir`` -> its parts."""
        kind, batch_id, jobdir = handle.split(":", 2)
        return kind, batch_id, JobDir(jobdir)

    # -- starting --------------------------------------------------------------------------------

    def batch_script(self, job_id: str, jobdir: JobDir, process_identifier: str) -> str:
        """The shell script a compute node runs for the job."""
        opts = self.options
        lines = ["#!/bin/sh", f"# pywps job {job_id} (process {process_identifier}), "
                 "written by the pywps scheduler backend", f"cd {shlex.quote(str(jobdir.path))} || exit 97"]
        if opts.pythonpath:
            lines.append(f'PYTHONPATH={shlex.quote(opts.pythonpath)}"${{PYTHONPATH:+:$PYTHONPATH}}"')
            lines.append("export PYTHONPATH")
        for name, value in opts.environment:
            lines.append(f"export {name}={shlex.quote(value)}")
        lines.append(f"export PYWPS_JOB_ID={shlex.quote(job_id)}")
        lines.append(f"exec {shlex.quote(opts.python)} -m pywps.worker {shlex.quote(str(jobdir.path))}")
        return "\n".join(lines) + "\n"

    def _refuse_sync(self, jobdir: JobDir) -> None:
        if self.accepts_sync:
            return
        from pywps.requestmodel import ExecuteRequest

        try:
            request = ExecuteRequest.from_dict(jobdir.read_job()["request"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if not request.is_async:
            raise OptionNotSupported("this server runs processes on a batch cluster and does not wait for "
                                     "them: use storeExecuteResponse=true and status=true",
                                     locator="storeExecuteResponse")

    def start(self, job: JobRecord, jobdir: JobDir) -> str:
        job_id, process_identifier = job.id, job.process
        jobdir = JobDir(Path(jobdir.path or jobdir.indir.parent).resolve())
        self._refuse_sync(jobdir)
        script = jobdir.indir / BATCH_SCRIPT
        tmp = script.with_name(f".{BATCH_SCRIPT}.tmp")
        tmp.write_text(self.batch_script(job_id, jobdir, process_identifier))
        os.chmod(tmp, 0o755)
        os.replace(tmp, script)
        name = f"pywps-{process_identifier}"[:64]
        try:
            batch_id = self.submitter.submit(script, jobdir, name, job_id)
        except SubmitError as exc:
            if exc.unreachable:
                raise RunnerUnavailable(f"the batch system is unreachable: {exc}") from None
            raise RuntimeError(f"the batch system refused the job: {exc}") from None
        log.info("job %s submitted to %s as %s", job_id, self.submitter.kind, batch_id)
        with self._lock:
            self._seen[batch_id] = BatchState("PENDING")
        return self._handle(batch_id, jobdir)

    # -- following -------------------------------------------------------------------------------

    def poll(self, handle: str) -> RunnerStatus:
        return self.poll_many([handle])[handle]

    def poll_many(self, handles: list[str]) -> dict[str, RunnerStatus]:
        parsed = {h: self.parse_handle(h) for h in handles}
        ours = [h for h, (kind, _, _) in parsed.items() if kind == self.submitter.kind]
        states = self._query({parsed[h][1]: parsed[h][2] for h in ours}) if ours else {}
        answer: dict[str, RunnerStatus] = {}
        for handle, (kind, batch_id, jobdir) in parsed.items():
            if kind != self.submitter.kind:
                answer[handle] = RunnerStatus(RunnerState.LOST, None, f"the job was submitted through {kind}, "
                                              f"this server uses {self.submitter.kind}")
                continue
            answer[handle] = self._status(batch_id, jobdir, None if states is None else states.get(batch_id),
                                          reachable=states is not None)
        return answer

    def _query(self, jobdirs: dict[str, JobDir]) -> dict[str, BatchState] | None:
        """Ask the scheduler about ``{batch_id: jobdir}``, at most once per ``query_interval``.

        In between, answer from what it said last; but ask sooner (at most every 0.2 s) once a job it
        called running has written its result, so the end is noticed without waiting for the interval.
        """
        with self._lock:
            known = {b: self._seen[b] for b in jobdirs if b in self._seen}
            done = {b: state for b, state in known.items() if state.ended}    # final: never asked again
            ask = sorted(b for b in jobdirs if b not in done)
            if not ask:
                return known
            since = time.monotonic() - self._last_query
            cached = since < self.options.query_interval and all(b in known for b in ask)
        if cached and since >= min(0.2, self.options.query_interval):
            cached = not any(_has_result(jobdirs[b]) for b in ask)
        if cached:
            return known
        states = self.submitter.query(ask)
        if states is None:
            return None
        with self._lock:
            self._last_query = time.monotonic()
        return {**done, **states}

    def _status(self, batch_id: str, jobdir: JobDir, state: BatchState | None, reachable: bool) -> RunnerStatus:
        with self._lock:
            last = self._seen.get(batch_id)
            if state is not None:
                self._seen[batch_id] = state
        if state is None:
            if last is not None and last.ended:
                state = last                           # forgotten by squeue; we saw how it ended
            elif not reachable:
                if _has_result(jobdir):
                    return RunnerStatus(RunnerState.EXITED, None, "")
                word = last.state if last is not None else "PENDING"
                running = RunnerState.RUNNING if word in RUNNING_STATES else RunnerState.PENDING
                return RunnerStatus(running, None, "the batch system does not answer; last state " + word.lower())
            else:
                return self._vanished(batch_id, jobdir, last)
        word = state.state
        if word in PENDING_STATES:
            return RunnerStatus(RunnerState.PENDING, None, state.reason if state.reason not in ("None", "") else "")
        if word in RUNNING_STATES:
            return RunnerStatus(RunnerState.RUNNING)
        if word in PAUSED_STATES:
            return RunnerStatus(RunnerState.PAUSED, None, f"{word.lower()} by the scheduler")
        if word in END_MESSAGES:
            return self._ended(batch_id, jobdir, state)
        return RunnerStatus(RunnerState.RUNNING, None, f"scheduler state {word}")

    def _ended(self, batch_id: str, jobdir: JobDir, state: BatchState) -> RunnerStatus:
        word = state.state
        has_result = _has_result(jobdir)
        code = state.exit_code if state.exit_code is not None else self._exit_codes.get(batch_id)
        if code is None and (word == "FAILED" or (word == "COMPLETED" and not has_result)):
            detail = self.submitter.details(batch_id)      # once per ended job: squeue has no exit code
            if detail is not None and detail.exit_code is not None:
                code = detail.exit_code
                with self._lock:
                    self._exit_codes[batch_id] = code
        if word == "COMPLETED":
            code = 0 if code is None else code
            message = "" if has_result else f"the batch job {batch_id} completed without writing a result" \
                + _log_hint(jobdir)
            return RunnerStatus(RunnerState.EXITED, code, message)
        if word == "CANCELLED" and batch_id in self._cancelled:
            return RunnerStatus(RunnerState.EXITED, code, "cancelled")
        message = END_MESSAGES[word]
        if word in ("TIMEOUT", "DEADLINE") and state.time_limit and state.time_limit not in ("UNLIMITED", "N/A"):
            message += f" (limit {state.time_limit})"
        elif word == "OUT_OF_MEMORY" and state.memory and state.memory not in ("0", "N/A"):
            message += f" (memory limit {state.memory})"
        elif word in ("NODE_FAIL", "BOOT_FAIL") and state.nodes:
            message += f" on {state.nodes}"
        elif word == "FAILED":
            message = f"the batch job {batch_id} failed" + (f" with exit code {code}" if code is not None else "")
            if state.reason.startswith("killed"):
                message += f" ({state.reason})"
            if not has_result:
                message += _log_hint(jobdir)
        return RunnerStatus(RunnerState.EXITED, code, message)

    def _vanished(self, batch_id: str, jobdir: JobDir, last: BatchState | None) -> RunnerStatus:
        if _has_result(jobdir):
            return RunnerStatus(RunnerState.EXITED, None, "")
        seen = f" (last seen {last.state.lower()})" if last is not None else ""
        return RunnerStatus(RunnerState.LOST, None, f"the batch job {batch_id} is no longer known to "
                            f"{self.submitter.kind}{seen} and wrote no result" + _log_hint(jobdir))

    # -- stopping --------------------------------------------------------------------------------

    def cancel(self, handle: str) -> None:
        kind, batch_id, _ = self.parse_handle(handle)
        if kind != self.submitter.kind:
            log.warning("cannot cancel %s: submitted through %s", handle, kind)
            return
        with self._lock:
            self._cancelled.add(batch_id)
            self._last_query = 0.0          # the next poll asks the scheduler again
        self.submitter.cancel(batch_id)

    def cleanup(self, handle: str) -> None:
        _, batch_id, jobdir = self.parse_handle(handle)
        with self._lock:
            self._seen.pop(batch_id, None)
            self._cancelled.discard(batch_id)
            self._exit_codes.pop(batch_id, None)
        if isinstance(self.submitter, DrmaaSubmitter):
            self.submitter.forget(batch_id)
        try:
            (jobdir.indir / BATCH_SCRIPT).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.info("cannot remove the batch script of %s: %s", handle, exc)

    def adopt(self, handles: list[str]) -> None:
        """Batch jobs outlive the server that submitted them: just learn their current states."""
        if handles:
            statuses = self.poll_many(handles)
            log.info("adopted %d batch job(s): %s", len(handles),
                     ", ".join(f"{h.split(':')[1]}={s.state.value}" for h, s in statuses.items()))


def _has_result(jobdir: JobDir) -> bool:
    """Whether the batch job left its ``out/result.json`` (read later, as hostile input, by the dispatcher)."""
    return HandBack(jobdir.outdir).has_result()


def _log_hint(jobdir: JobDir) -> str:
    """The last line of the batch job's log, to say why it ended without a result."""
    text = HandBack(jobdir.outdir).log_tail(BATCH_LOG, 2048)
    lines = [xml_safe(x.strip(), 300) for x in text.splitlines() if x.strip()]
    return f"; batch log: {lines[-1]}" if lines else ""


def _exit_code(text: str) -> int | None:
    """Slurm's ``EXIT:SIGNAL`` -> the exit code (128+signal when killed by one)."""
    code, _, signal = text.partition(":")
    try:
        value, sig = int(code), int(signal or 0)
    except ValueError:
        return None
    return 128 + sig if value == 0 and sig else value


def _hms(limit: str) -> str:
    """A Slurm-style time limit (minutes, M:S, H:M:S, D-H[:M[:S]]) as Grid Engine's H:M:S."""
    total = _seconds(limit)
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


def _seconds(limit: str) -> int:
    """A Slurm-style time limit (minutes, M:S, H:M:S, D-H[:M[:S]]) in seconds."""
    days = 0
    if "-" in limit:
        head, limit = limit.split("-", 1)
        days = int(head)
        parts = [int(p) for p in limit.split(":")] + [0] * (3 - len(limit.split(":")))
        hours, minutes, seconds = parts[:3]
    else:
        parts = [int(p) for p in limit.split(":")]
        if len(parts) == 1:
            hours, minutes, seconds = 0, parts[0], 0
        elif len(parts) == 2:
            hours, minutes, seconds = 0, parts[0], parts[1]
        else:
            hours, minutes, seconds = parts[:3]
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _which(command: str) -> str | None:
    import shutil

    return shutil.which(command)
