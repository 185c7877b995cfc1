"""The p99 a web server gives when the application costs a fixed CPU time per request.

benchmarks/serving.py asks maas's p99 to be no worse than the seed-style server's (gunicorn's
sync workers), with wrk -t2 -c16 on this 2-core host. This separates the server from the
application: a stand-in (benchmarks/_fixed_cost_app.py) spends exactly `--costs` µs of CPU per
request under each candidate, two processes each, every process at nice 19 in a session of its
own as `make run` starts them (`--nice 0` for none). So the table says what CPU per request an
application needs under a server for its p99 to clear the seed's, whose own server is gunicorn
sync:

- granian RSGI with the options maas.web gives it (uvloop, HTTP/1.1, backpressure 512);
- gunicorn sync (the seed-style server's, a connection per request);
- uvicorn (httptools, uvloop), one thread per process, if it is installed (it is not a
  dependency of maas: `pip install uvicorn httptools` to include it).

Rounds alternate over the candidates (wrk -t2 -c16, `--seconds` after a 2 s warm-up).

    .venv/bin/python benchmarks/server_floor.py --costs 200,300 --rounds 4
"""

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from statistics import median

from _harness import free_port, stop, wait_port, wrk

HERE = os.path.dirname(os.path.abspath(__file__))


def candidates() -> dict[str, list[str]]:
    """name -> command (with {port}), each two processes on 127.0.0.1:{port}."""
    bin_dir = os.path.dirname(sys.executable)
    found = {
        "granian RSGI (maas.web's options)": [
            os.path.join(bin_dir, "granian"),
            *["--interface", "rsgi", "--loop", "uvloop", "--http", "1", "--no-ws"],
            *["--backpressure", "512", "--workers", "2", "--host", "127.0.0.1"],
            *["--port", "{port}", "_fixed_cost_app:rsgi"],
        ],
        "gunicorn sync (the seed's server)": [
            os.path.join(bin_dir, "gunicorn"),
            *["-w", "2", "-b", "127.0.0.1:{port}", "_fixed_cost_app:wsgi"],
        ],
    }
    if importlib.util.find_spec("uvicorn") and importlib.util.find_spec("httptools"):
        found["uvicorn (httptools, uvloop)"] = [
            sys.executable,
            *["-m", "uvicorn", "--workers", "2", "--loop", "uvloop", "--http", "httptools"],
            *["--no-access-log", "--host", "127.0.0.1", "--port", "{port}"],
            "_fixed_cost_app:asgi",
        ]
    return found


def start(
    command: list[str], cost_us: int, nice: int, releases: int, mode: str = "time"
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    path = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "FLOOR_COST_US": str(cost_us), "PYTHONPATH": path}
    env["FLOOR_GIL_RELEASES"] = str(releases)
    env["FLOOR_COST_MODE"] = mode
    process = subprocess.Popen(
        ["nice", "-n", str(nice), *command],  # every thread inherits it
        env=env,
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_port(port, process=process)
    if nice > 0:
        # The session's weight, where the kernel groups sessions (as maas.launcher does).
        with contextlib.suppress(OSError):
            Path(f"/proc/{process.pid}/autogroup").write_text(str(nice))
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--costs", default="200,300", help="µs of CPU per request, comma-separated")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--nice", type=int, default=19)
    parser.add_argument(
        "--gil-releases", type=int, default=0, help="system calls per request, without the GIL"
    )
    parser.add_argument(
        "--mode",
        choices=["time", "work"],
        default="time",
        help="time: each request busy-waits the cost; work: a fixed amount of work that takes "
        "the cost at the CPU's fastest, and longer when the host slows the CPU down",
    )
    args = parser.parse_args()

    servers = candidates()
    print("| CPU per request | server | req/s | p50 ms | p99 ms per round |")
    print("|---|---|---|---|---|")
    for cost in (int(part) for part in args.costs.split(",")):
        running: dict[str, tuple[subprocess.Popen, int]] = {}
        results: dict[str, list[dict]] = {name: [] for name in servers}
        try:  # a server that fails to start stops those already started
            for name, command in servers.items():
                running[name] = start(command, cost, args.nice, args.gil_releases, args.mode)
            for _ in range(args.rounds):
                for name, (_, port) in running.items():
                    url = f"http://127.0.0.1:{port}/predict"
                    results[name].append(wrk(url, {"inputs": [{"x": 1}]}, {}, args.seconds, 2))
        finally:
            for process, _ in running.values():
                stop(process)
        for name, rounds in results.items():
            rps = median(r["rps"] for r in rounds)
            p50 = median(r["p50"] for r in rounds)
            p99s = " / ".join(f"{r['p99']:.1f}" for r in rounds)
            print(f"| {cost} µs | {name} | {rps:,.0f} | {p50:.2f} | {p99s} |", flush=True)


if __name__ == "__main__":
    main()
