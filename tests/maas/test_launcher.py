"""maas.launcher, which `make run` starts the Procfile with: each process writes to the
launcher's own output (no relay), and they stop together."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maas.launcher import procfile_read

ROOT = Path(__file__).resolve().parents[2]


def launch(procfile: Path, out: Path, *names: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "maas.launcher", str(procfile), *names],
        cwd=ROOT,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_text(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_procfile_is_read_in_order(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("# the processes\nweb: python -m maas.web\n\nworker: celery -A maas\n")
    assert procfile_read(procfile) == {"web": "python -m maas.web", "worker": "celery -A maas"}


def test_processes_write_to_its_output_and_stop_together_on_sigterm(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "one: echo one $$; exec sleep 60\n"
        "two: trap 'echo two stopped; exit 0' TERM; echo two $$; while :; do sleep 0.1; done\n"
    )
    out = tmp_path / "out"
    launcher = launch(procfile, out)
    wait_for_text(out, "two ")
    wait_for_text(out, "one ")
    pids = {
        line.split()[0]: int(line.split()[1])
        for line in out.read_text().splitlines()
        if line.split()[0] in ("one", "two")
    }
    for pid in pids.values():
        # The process's own output is the launcher's, not a pipe a relay reads from.
        assert os.readlink(f"/proc/{pid}/fd/1") == str(out)
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=30) == 0
    assert "two stopped" in out.read_text()  # a graceful stop: SIGTERM, not SIGKILL
    assert not any(alive(pid) for pid in pids.values())


def test_one_process_exiting_stops_the_others_with_its_status(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("lasting: echo lasting $$; exec sleep 60\nbrief: sleep 0.5; exit 3\n")
    out = tmp_path / "out"
    launcher = launch(procfile, out)
    assert launcher.wait(timeout=30) == 3
    text = out.read_text()
    assert "brief exited with status 3" in text
    lasting = int(
        next(line for line in text.splitlines() if line.startswith("lasting ")).split()[1]
    )
    assert not alive(lasting)


def test_names_choose_processes_and_unknown_names_are_refused(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("a: echo ran a\nb: echo ran b; sleep 60\n")
    out = tmp_path / "out"
    assert launch(procfile, out, "a").wait(timeout=30) == 0
    assert "ran a" in out.read_text() and "ran b" not in out.read_text()
    refused = launch(procfile, out, "c")
    assert refused.wait(timeout=30) != 0
    assert "no process named c" in out.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path, monkeypatch, signum):
    from maas import launcher

    procfile = tmp_path / "Procfile"
    procfile.write_text("stubborn: trap '' TERM; echo stubborn $$; while :; do sleep 0.1; done\n")
    monkeypatch.setattr(launcher, "STOP_SECONDS", 0.5)
    from maas import settings

    # In this process: at nice 0 it leaves the test run's own priority as it is.
    monkeypatch.setattr(settings, "MAAS_LAUNCHER_NICE", 0)
    monkeypatch.setattr(settings, "MAAS_LAUNCHER_WORKER_NICE", 0)
    # In this process, so the shorter grace applies: a signal after start stops the loop.
    import threading

    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signum))
    timer.start()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert launcher.run(procfile, []) == 0
    finally:
        timer.cancel()
        for s, handler in previous.items():
            signal.signal(s, handler)


@pytest.mark.parametrize(
    ("environment", "web_nice", "other_nice"),
    [
        ({"MAAS_LAUNCHER_NICE": "7"}, 7, 19),
        ({"MAAS_LAUNCHER_NICE": "0"}, 0, 19),
        ({}, 19, 19),  # embedded: the defaults
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, 0, 19),  # with Redis: the defaults
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "MAAS_LAUNCHER_WORKER_NICE": "0"}, 0, 0),
        ({"MAAS_LAUNCHER_WORKER_NICE": "5"}, 19, 19),  # never above the web processes
    ],
)
def test_processes_run_at_the_nice_set_and_so_do_their_sessions(
    tmp_path, monkeypatch, environment, web_nice, other_nice
):
    """MAAS_LAUNCHER_NICE for `web`, MAAS_LAUNCHER_WORKER_NICE (or the web's, if higher) for the
    others: each process at that nice, and where the kernel weighs sessions as groups
    (autogroup), its session too; 0 leaves them as the launcher was."""
    for name in ("MAAS_LAUNCHER_NICE", "MAAS_LAUNCHER_WORKER_NICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", "")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    procfile = tmp_path / "Procfile"
    # The session's nice is set just after its process starts: read a moment later. `other`
    # is listed first and ends first (then the launcher stops web): web still starts first.
    report = "sleep 0.5; echo {0} nice $(nice); echo {0} $(cat /proc/self/autogroup || true)"
    procfile.write_text(f"other: {report.format('other')}\nweb: {report.format('web')}; sleep 5\n")
    out = tmp_path / "out"
    assert launch(procfile, out).wait(timeout=30) == 0
    text = out.read_text()
    assert text.index("starting web") < text.index("starting other"), text
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    grouped = autogroup.exists() and autogroup.read_text().strip() == "1"
    for name, nice in (("web", web_nice), ("other", other_nice)):
        # A nice is only ever raised: a launcher started at a higher one keeps it.
        expected = max(nice, os.getpriority(os.PRIO_PROCESS, 0))
        assert f"{name} nice {expected}\n" in text, text
        if grouped:
            assert re.search(rf"^{name} /autogroup-\d+ nice {nice}$", text, re.M), text
