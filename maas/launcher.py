"""Starts the Procfile's processes for `make run` and stops them together.

Each process writes straight to the launcher's own stdout and stderr (the terminal, or whatever
they were sent to). A Procfile runner such as honcho instead reads every line its processes
print and prints it again with a prefix: for the web process, whose access log is one line per
request, that relay took about a fifth of a core each in two processes under load
(docs/serving.md). Here nothing sits between a process and its output.

    python -m maas.launcher Procfile [NAME ...]

Each `NAME: command` line of the Procfile is run with `sh -c` in a process group of its own
(NAMEs given: only those). When any of them exits, or on SIGINT or SIGTERM, the others get
SIGTERM (their graceful stop) and, after STOP_SECONDS, their process groups get SIGKILL. The exit
status is the first exited process's, or 0 after a signal.

The `web` process runs at nice `MAAS_LAUNCHER_NICE` (19 embedded, 0 with Redis: maas.settings
says why) and the others (the worker, beat) at `MAAS_LAUNCHER_WORKER_NICE` (19), or the web's if
that is higher: `nice` for each thread, and on a Linux kernel that groups processes by session
(autogroup, where a session's whole CPU weight is its group's, whatever its threads' nice), the
nice of each process's session. They give way to everything else on the host when the CPU is
short: the kernel's network work (ksoftirqd) and clients; and the worker and beat give way to
the web processes. Measured under load (docs/serving.md, "Stalls"), the web processes' session
otherwise kept a client waiting for a core up to ~28 ms and ksoftirqd up to ~38 ms, and the
worker's usage drain every 5 s, at the web processes' weight, showed in their p99.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

WEB = "web"  # the Procfile's name for the web processes

# How long a graceful stop may take before SIGKILL (a worker finishing a job step, a long poll).
STOP_SECONDS = 30.0


def procfile_read(path: Path) -> dict[str, str]:
    """`name: command` lines, in order; blank lines and `#` comments skipped."""
    processes: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        if not command.strip():
            raise SystemExit(f"{path}: no command on the line {line!r}")
        processes[name.strip()] = command.strip()
    return processes


def _simple(command: str) -> bool:
    """A single command (no lists, pipes, subshells or redirections): `exec` can replace the
    shell with it, so that signals reach the process itself."""
    return not re.search(r"[;&|<>()`\n]", command)


def _stop(children: dict[str, subprocess.Popen], grace: float) -> None:
    for child in children.values():
        if child.poll() is not None:
            continue
        if child.args[-1].startswith("exec "):
            # The process itself, which stops its own children (Celery's pool, granian's
            # workers) gracefully; its whole group only if it does not stop in time.
            child.send_signal(signal.SIGTERM)
        else:  # a shell running several commands: all of them
            _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children.values():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _niced(nice: int) -> None:
    """This process, and so each process it starts, at `nice` or lower priority."""
    if nice > 0 and hasattr(os, "setpriority"):
        os.setpriority(os.PRIO_PROCESS, 0, max(nice, os.getpriority(os.PRIO_PROCESS, 0)))


def _session_niced(pid: int, nice: int) -> None:
    """The CPU weight of `pid`'s session, where the kernel groups sessions (autogroup)."""
    if nice <= 0:
        return
    with contextlib.suppress(OSError):  # not Linux, or a kernel without autogroup
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))


def run(procfile: Path, names: list[str]) -> int:
    from maas import settings

    processes = procfile_read(procfile)
    unknown = [name for name in names if name not in processes]
    if unknown:
        raise SystemExit(f"{procfile} has no process named {', '.join(unknown)}")
    chosen = {name: processes[name] for name in names} if names else processes
    stopping: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    children: dict[str, subprocess.Popen] = {}
    # Web first: this process takes on each nice in turn and passes it on to what it starts,
    # and a nice once raised cannot be lowered again without privileges.
    for name, command in sorted(chosen.items(), key=lambda item: item[0] != WEB):
        nice = settings.MAAS_LAUNCHER_NICE
        if name != WEB:
            nice = max(nice, settings.MAAS_LAUNCHER_WORKER_NICE)
        _niced(nice)  # inherited by the process started next
        print(f"maas.launcher: starting {name}: {command}", file=sys.stderr, flush=True)
        # A group of its own: a terminal's Ctrl-C reaches the launcher only, which stops each
        # process with SIGTERM, the one signal all of them take as a graceful stop.
        script = f"exec {command}" if _simple(command) else command
        children[name] = subprocess.Popen(  # noqa: S603 (the operator's own Procfile)
            ["/bin/sh", "-c", script], start_new_session=True
        )
        _session_niced(children[name].pid, nice)
    status = 0
    while not stopping:
        exited = [(name, child) for name, child in children.items() if child.poll() is not None]
        if exited:
            name, child = exited[0]
            # As a shell reports it: a process ended by signal N is 128 + N.
            status = child.returncode if child.returncode >= 0 else 128 - child.returncode
            print(
                f"maas.launcher: {name} exited with status {child.returncode}; stopping the rest",
                file=sys.stderr,
                flush=True,
            )
            break
        time.sleep(0.2)
    _stop(children, STOP_SECONDS)
    return status


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m maas.launcher Procfile [NAME ...]")
    sys.exit(run(Path(sys.argv[1]), sys.argv[2:]))


if __name__ == "__main__":
    main()
