"""Summarise a py-spy ``--format raw`` recording of this server taken with ``--subprocesses``.

    py-spy record --subprocesses --pid GUNICORN_MASTER -r 100 -f raw -o /tmp/exec.txt -d 15
    python bench/spy_report.py /tmp/exec.txt

(``bench_ops.py --py-spy FILE`` does the recording.) Samples are split by where they ran: the gunicorn
master, a worker's request thread, a worker's dispatcher thread, or a forked job process; under each, the
pywps call paths (last three pywps frames) with the largest share of all samples are listed, then the
functions with the most samples of their own.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

_PYWPS = ("Dispatcher.", "JobStore.", "JobDir.", "MultiProcessing.", "Operations.", "run_job", "run_process",
          "write_json_atomic", "_WriterGate", "create_app.", "parse_request", "capabilities", "describe",
          "execute_response", "render")


def _name(frame: str) -> str:
    return re.sub(r"\s*\(.*$", "", frame)


def _where(processes: int, names: list[str]) -> str:
    if processes <= 1:
        return "gunicorn master"
    if processes == 2:
        if "Dispatcher._run" in names:
            return "worker: dispatcher thread"
        if "SyncWorker.handle_request" in names:
            return "worker: request thread"
        return "worker: other threads"
    return "forked job process"


def report(path: Path, top: int) -> str:
    by_place: Counter[str] = Counter()
    paths: dict[str, Counter[str]] = defaultdict(Counter)
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        names = [_name(f) for f in frames if not f.startswith("process ")]
        place = _where(sum(f.startswith("process ") for f in frames), names)
        by_place[place] += n
        ours = [x for x in names if x.startswith(_PYWPS)]
        paths[place][" > ".join(ours[-3:]) or "(outside pywps)"] += n
        own[re.sub(r":\d+\)$", ")", frames[-1])] += n
    lines = [f"{total} samples"]
    for place, n in by_place.most_common():
        lines.append(f"{n / total:6.1%}  {place}")
        lines.extend(f"          {m / total:6.1%}  {p}" for p, m in paths[place].most_common(top))
    lines.append("own samples:")
    lines.extend(f"{n / total:6.1%}  {f}" for f, n in own.most_common(top * 2))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args(argv)
    print(report(args.file, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
