"""The web server: granian running maas.rsgi (maas's WSGI application behind a small RSGI
adapter) in WEB_CONCURRENCY processes, configured in one place.

Every way maas is started runs web processes through this module (`python -m maas.web`): the
Procfile (and so `make run`), the Dockerfile, docker-compose, the tests and the benchmarks. Its
settings come from the environment through `maas.settings` (PORT, MAAS_WEB_HOST, MAAS_WEB_UDS,
WEB_CONCURRENCY, MAAS_WEB_MAX_IN_FLIGHT, MAAS_WEB_GRACEFUL_SECONDS). Why granian and this
shape, with the measurements that chose them: docs/serving.md.

- Each process has its own listening socket on Linux (SO_REUSEPORT): the kernel spreads new
  connections over the processes, so no process sits idle while another holds them all, and
  a process holding more than its share of kept connections closes some (maas.balance).
- granian parses HTTP/1.1 in Rust (keep-alive, pipelining, chunked bodies) and hands requests
  to the process's event loop (uvloop), where maas.rsgi reads bodies and parks long polls
  asynchronously and runs each request, one at a time, in arrival order.
- Its own access log is off: maas writes one JSON line per request (maas.admission).
- SIGHUP starts new processes, then stops the old ones gracefully (a deploy without dropped
  requests); SIGINT and SIGTERM stop gracefully, requests in flight finished first. A process
  that dies is started again.
"""

import sys
from pathlib import Path


def server_options() -> dict:
    """granian's options, from the environment (read by maas.settings, nowhere else)."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    from maas import settings

    options = {
        "target": "maas.rsgi:application",
        "interface": Interfaces.RSGI,
        "loop": Loops.uvloop,
        "http": HTTPModes.http1,
        "websockets": False,
        "workers": settings.MAAS_WEB_WORKERS,
        # Requests a process holds at once (read, run, parked or answered); more wait in granian.
        "backpressure": settings.MAAS_WEB_MAX_IN_FLIGHT,
        "respawn_failed_workers": True,
        "workers_kill_timeout": settings.MAAS_WEB_GRACEFUL_SECONDS,
        "log_access": False,
        "log_level": LogLevels(settings.LOG_LEVEL.lower()),
        "working_dir": Path(settings.BASE_DIR),
    }
    if settings.MAAS_WEB_UDS:
        options["uds"] = Path(settings.MAAS_WEB_UDS)
    else:
        options["address"], options["port"] = settings.MAAS_WEB_HOST, settings.MAAS_WEB_PORT
    return options


def main() -> None:
    from granian import Granian

    from maas import settings
    from maas.balance import share_create

    # The application's directory first on the path, as the workers import maas.wsgi from it.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    share_create(settings.MAAS_WEB_WORKERS)  # before the workers start: they inherit it
    Granian(**server_options()).serve()


if __name__ == "__main__":
    main()
