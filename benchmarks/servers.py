"""Which web server to run maas on: the same application under each candidate, side by side.

Candidates, each with two processes on 127.0.0.1, access logs on (maas's JSON line, to a file):
- granian over WSGI as `python -m maas.web` starts it (the Procfile's command), and again with
  one thread per process (MAAS_WEB_THREADS=1: what the threads cost);
- gunicorn's stock workers: `sync` (a connection per request) and `gthread` (kept
  connections, 8 threads per process);
- with `--ours REF`: gunicorn with maas's own KeepAliveWorker, the server maas ran on until it
  was replaced, from a git worktree of the commit REF (its application code is REF's too).

Each case (LogisticRegression 1 row, RandomForest(100) 1 row, RandomForest 100 rows) loads the
seed-style Flask server and every candidate in turn, `--rounds` times (wrk -t2 -c16, `--seconds`
after a 2 s warm-up); medians, ratios to the seed server, and every round's p99.

    .venv/bin/python benchmarks/servers.py --ours 654845e
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from statistics import median

from _harness import (
    CASES,
    ROOT,
    baseline_models,
    baseline_server,
    free_port,
    rows,
    setup_maas,
    stop,
    wait_port,
    wrk,
)


def start(cmd: list[str], env: dict, port: int, cwd: str, log: str) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 (open while the server runs)
    process = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
    )
    wait_port(port, process=process)
    return process


def candidates(args, env: dict) -> dict[str, tuple[list[str], dict, str]]:
    """name -> (command, environment, working directory); each binds 127.0.0.1:{port}."""
    bin_dir = os.path.dirname(sys.executable)
    gunicorn = os.path.join(bin_dir, "gunicorn")
    granian = os.path.join(bin_dir, "granian")
    bind = ["-b", "127.0.0.1:{port}"]

    def granian_wsgi(threads: int) -> list[str]:
        wsgi = ["--interface", "wsgi", "--blocking-threads", str(threads), "--backpressure", "64"]
        return [
            granian,
            *wsgi,
            "--workers",
            "2",
            "--no-ws",
            "--port",
            "{port}",
            "maas.wsgi:application",
        ]

    found = {
        "granian RSGI, as maas.web runs it": ([sys.executable, "-m", "maas.web"], env, ROOT),
        "granian WSGI, 1 thread (waits block it)": (granian_wsgi(1), env, ROOT),
        "granian WSGI, 32 threads": (granian_wsgi(32), env, ROOT),
        "gunicorn sync": ([gunicorn, "-w", "2", *bind, "maas.wsgi"], env, ROOT),
        "gunicorn gthread, 8 threads": (
            [gunicorn, "-w", "2", "-k", "gthread", "--threads", "8", *bind, "maas.wsgi"],
            env,
            ROOT,
        ),
    }
    if args.ours:
        tree = tempfile.mkdtemp(prefix="maas-servers-ours-")
        subprocess.run(
            ["git", "-C", ROOT, "worktree", "add", "--detach", tree, args.ours],
            check=True,
            capture_output=True,
        )
        found["gunicorn + KeepAliveWorker (ours)"] = (
            [gunicorn, "-w", "2", "-k", "maas.server.KeepAliveWorker", *bind, "maas.wsgi"],
            {**env, "PYTHONPATH": tree},
            tree,
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ours", help="a commit that still has maas/server.py")
    parser.add_argument("--only", help="a regular expression: the candidates to run")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="maas-servers-")
    paths = baseline_models(tmp)
    data_dir = os.path.join(tmp, "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAAS_", "DJANGO_"))}
    env |= {
        "PYTHONPATH": ROOT,
        "DJANGO_SETTINGS_MODULE": "maas.settings",
        "MAAS_DATA_DIR": data_dir,
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    setup = setup_maas(env)
    auth = {"Authorization": f"Bearer {setup['key']}"}
    seed_ports = {name: free_port() for name in paths}
    seeds = {name: baseline_server(path, seed_ports[name]) for name, path in paths.items()}
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    results: dict = {}
    try:
        for name, (cmd, server_env, cwd) in candidates(args, env).items():
            if args.only and not re.search(args.only, name):
                continue
            port = free_port()
            cmd = [part.replace("{port}", str(port)) for part in cmd]
            server_env = {**server_env, "PORT": str(port), "MAAS_WEB_HOST": "127.0.0.1"}
            log = os.path.join(tmp, f"{len(servers)}.log")
            servers[name] = (start(cmd, server_env, port, cwd, log), port)
        for case, model_key, n in CASES:
            lists, dicts = rows(n)
            model = setup["models"][model_key]
            for _ in range(args.rounds):
                seed_url = f"http://127.0.0.1:{seed_ports[model_key]}/predict"
                results.setdefault((case, "seed"), []).append(
                    wrk(seed_url, {"features": lists}, {}, args.seconds, 2)
                )
                for name, (_, port) in servers.items():
                    url = f"http://127.0.0.1:{port}/v1/models/{model}/predict"
                    results.setdefault((case, name), []).append(
                        wrk(url, {"inputs": dicts}, auth, args.seconds, 2)
                    )
    finally:
        for process, _ in servers.values():
            stop(process)
        for process in seeds.values():
            stop(process)
        if args.ours:
            subprocess.run(["git", "-C", ROOT, "worktree", "prune"], check=False)
    print(
        f"wrk -t2 -c16, {args.seconds} s per round after a 2 s warm-up, {args.rounds} rounds, "
        "every server in turn; medians. SQLite, access logs on; two processes each.\n"
    )
    print("| case | server | req/s | vs seed | p99 ms per round | non-2xx |")
    print("|---|---|---|---|---|---|")
    for case, _, n in CASES:
        seed_rps = median(r["rps"] for r in results[(case, "seed")])
        for name in ["seed", *servers]:
            rounds = results[(case, name)]
            rps = median(r["rps"] for r in rounds)
            label = "seed-style Flask + pickle, gunicorn sync" if name == "seed" else name
            p99 = " / ".join(f"{r['p99']:.1f}" for r in rounds)
            errors = sum(r["errors"] for r in rounds)
            unit = f" ({rps * n:,.0f} rows/s)" if n > 1 else ""
            print(
                f"| {case} | {label} | {rps:,.0f}{unit} | {rps / seed_rps:.2f}x | {p99} "
                f"| {errors} |"
            )


if __name__ == "__main__":
    main()
