"""The web server: granian running maas.rsgi (maas's WSGI application behind a small RSGI
adapter) in WEB_CONCURRENCY processes, configured in one place.

Every way maas is started runs web processes through this module (`python -m maas.web`): the
Procfile (and so `make run`), the Dockerfile, docker-compose, the tests and the benchmarks. Its
settings come from the environment through `maas.settings` (PORT, MAAS_WEB_HOST, MAAS_WEB_UDS,
WEB_CONCURRENCY, MAAS_WEB_MAX_IN_FLIGHT, MAAS_WEB_GRACEFUL_SECONDS). Why granian and this
shape, with the measurements that chose them: docs/serving.md.

- Each process slot has its own listening socket on Linux (SO_REUSEPORT): the kernel spreads
  new connections over them, so no process sits idle while another holds them all, and a
  process holding more than its share of kept connections closes some (maas.balance). The
  main process makes the sockets and keeps them (`SlotSockets`), so a reload hands each one
  to the new process with its queue intact.
- granian parses HTTP/1.1 in Rust (keep-alive, pipelining, chunked bodies) and hands requests
  to the process's event loop (uvloop), where maas.rsgi reads bodies and parks long polls
  asynchronously and runs each request, one at a time, in arrival order.
- Its own access log is off: maas writes one JSON line per request (maas.admission).
- SIGHUP starts new processes, then stops the old ones gracefully (a deploy without dropped
  requests); SIGINT and SIGTERM stop gracefully, requests in flight finished first. A process
  that dies is started again.
"""

import errno
import socket
import sys
from pathlib import Path

from granian.net import SocketSpec
from granian.server import MPServer

# How long the kernel holds a new connection for its first bytes before handing it over anyway
# (seconds; HTTP clients send their request as soon as they are connected).
DEFER_ACCEPT_SECONDS = 10


def port_free_check(host: str, port: int) -> None:
    """Refuses a port that a server already listens on. The slot sockets set SO_REUSEPORT, with
    which a second server of the same user binds the port without an error and takes a share of
    its connections; a socket without it cannot bind where anything listens."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a connection left in TIME_WAIT by an earlier run does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise SystemExit(
                f"maas.web: port {port} on {host} is in use (another server listens there). "
                "Stop that server or set PORT to a free port."
            ) from None


class SlotSockets(MPServer):
    """granian's multi-process server, with listening sockets that outlive its processes.

    granian (on Linux) has each process bind a SO_REUSEPORT socket of its own, which closes
    when the process stops. On a reload that drops requests clients have already sent:
    connections still queued on the closing socket are reset, and a connection the stopping
    process accepted before its first bytes arrived is closed unanswered (hyper's graceful
    shutdown closes a connection it has read nothing from). Under tests/maas/test_web.py's load
    loop, where a client sends ~8 ms after connecting on a busy host, about one process stop
    in 50 failed a request that way (docs/serving.md).

    Here the main process binds one socket per process slot and keeps them all: the process
    in slot i, and on a reload its successor, accept from socket i, so its queue outlives any
    one process; and the kernel hands over a connection only once its first bytes have arrived
    (TCP_DEFER_ACCEPT), so a process that stops has read from every connection it accepted,
    and hyper answers each before closing it. The kernel still hashes new connections over the
    slots as before. granian is pinned (pyproject.toml): this overrides the methods that make,
    hand out and drop its sockets.
    """

    def _init_shared_socket(self) -> None:
        self._slots: list[tuple] = []
        if self.bind_uds:  # one socket for all processes already, never closed by one
            super()._init_shared_socket()
            return
        port_free_check(self.bind_addr, self.bind_port)
        spec = SocketSpec(self.bind_addr, self.bind_port, self.backlog)  # one port for all
        for _ in range(self.workers):
            holder = spec.build()
            listening = socket.socket(fileno=holder.get_fd())
            listening.set_inheritable(True)
            if hasattr(socket, "TCP_DEFER_ACCEPT"):  # Linux
                listening.setsockopt(
                    socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, DEFER_ACCEPT_SECONDS
                )
            self._slots.append((holder, listening))
        self._ssp = None

    def _spawn_worker(self, idx, target, callback_loader):
        if self._slots:  # the slot's socket, handed to the process (inherited by fork)
            self._shd, self._sso = self._slots[idx]
        return super()._spawn_worker(idx, target, callback_loader)

    def _drop_shared_socket(self) -> None:
        for _, listening in self._slots:
            listening.close()
        self._slots = []
        super()._drop_shared_socket()


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
    from maas import settings
    from maas.balance import share_create

    # The application's directory first on the path, as the workers import maas.wsgi from it.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    share_create(settings.MAAS_WEB_WORKERS)  # before the workers start: they inherit it
    SlotSockets(**server_options()).serve()


if __name__ == "__main__":
    main()
