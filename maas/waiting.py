"""Waiting without holding the web process: for a condition (`Prefer: wait=N` long polls) and
for a large request body.

Under maas.rsgi a web process runs its requests one at a time in one thread (docs/serving.md),
so a request must never block that thread on something slow: a sleep, or a client sending its
upload. Such a request is *suspended* instead: its first run stops (a BaseException, so error
handling lets it through and any open transaction rolls back), the server does the slow part
asynchronously while it serves other requests, then runs the request again from the start. On
that second run nothing suspends, and the rate limit is not counted again (`wait_rerun`).

- `wait_until(ready, seconds)`, called by a view that would wait (maas.jobs.job_wait). Under
  maas.rsgi, on the first run it raises WaitRequested: the server awaits, asking `ready()` (a
  small query) every WAIT_POLL_SECONDS, until it is true or the time is up. On the second run
  it returns at once, and the view answers with what is true then. Anywhere else (a WSGI
  server, the test client) it sleeps, asking `ready()` as often.
- `DeferredBody`, the `wsgi.input` maas.rsgi gives a request whose body it has not read (a
  large one): reading it raises BodyRequested, and the server reads the body, asynchronously,
  into a spool for the second run. A request refused before its body is read (a bad key, over
  the tenant's upload limit) never makes the server read it.

A request's first run must not have done anything it could not do again before it suspends:
only reads wait, and bodies are read before anything is written.
"""

import time
from collections.abc import Callable
from contextvars import ContextVar

# How often a waiting request's condition is checked.
WAIT_POLL_SECONDS = 0.2

DEFER, RERUN, SLEEP = "defer", "rerun", "sleep"
_mode: ContextVar[str] = ContextVar("maas_wait_mode", default=SLEEP)


class Suspended(BaseException):
    """The request's first run stops here, to be run again once the server has done the slow
    part asynchronously."""


class WaitRequested(Suspended):
    """Run again once `ready()` or at the monotonic time `deadline`."""

    def __init__(self, ready: Callable[[], bool], deadline: float):
        super().__init__("wait requested")
        self.ready, self.deadline = ready, deadline


class BodyRequested(Suspended):
    """Run again once the request's body has been read."""


class DeferredBody:
    """A request body the server has not read yet: reading it suspends the request."""

    def read(self, size: int = -1) -> bytes:
        raise BodyRequested("body requested")

    readline = read

    def __iter__(self):
        raise BodyRequested("body requested")


def wait_until(ready: Callable[[], bool], seconds: float) -> bool:
    """Waits until `ready()` is true or `seconds` have passed (see the module's docstring);
    True if it waited here (the caller then reads afresh what it waited for)."""
    if seconds <= 0:
        return False
    mode = _mode.get()
    if mode == RERUN:
        return False
    deadline = time.monotonic() + seconds
    if mode == DEFER:
        raise WaitRequested(ready, deadline)
    while not ready() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(WAIT_POLL_SECONDS, left))
    return True


def wait_mode_set(mode: str) -> object:
    """For the server: DEFER on a request's first run, RERUN on its second; a token to reset."""
    return _mode.set(mode)


def wait_mode_reset(token: object) -> None:
    _mode.reset(token)  # type: ignore[arg-type]


def wait_rerun() -> bool:
    """Whether this is a request's second run, after it was suspended (already counted)."""
    return _mode.get() == RERUN
