"""A stand-in application for benchmarks/server_floor.py: every request reads its body, spends
FLOOR_COST_US microseconds of CPU (a busy loop, letting go of the GIL FLOOR_GIL_RELEASES times;
FLOOR_COST_MODE=work: a fixed amount of work that takes that long at the CPU's fastest), and
answers a small JSON body. The same work behind each interface a candidate server speaks."""

import os
import time

COST = int(os.environ.get("FLOOR_COST_US", "300")) / 1e6
# "time": each request busy-waits COST of wall time, whatever the CPU's speed. "work": each
# request does a fixed amount of work that took COST on this CPU at its fastest (calibrated at
# start), so it takes longer when the CPU runs slower, as an application's requests do.
MODE = os.environ.get("FLOOR_COST_MODE", "time")
# How many times a request lets go of the GIL on its way (a system call each), as maas's predict
# path does in ONNX Runtime's run and its file calls; another thread may take it meanwhile.
RELEASES = int(os.environ.get("FLOOR_GIL_RELEASES", "0"))
BODY = b'{"predictions":["malignant"]}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def _spin(steps: int) -> None:
    for _ in range(steps):
        pass


def _steps_per_second() -> float:
    """How many `_spin` steps the CPU does per second at its fastest (the best of 50 tries)."""
    best = float("inf")
    for _ in range(50):
        start = time.perf_counter()
        _spin(20_000)
        best = min(best, time.perf_counter() - start)
    return 20_000 / best


STEPS = round(COST * _steps_per_second()) if MODE == "work" else 0


def _work() -> None:
    if MODE == "work":
        for _ in range(RELEASES):
            os.stat(".")
        _spin(STEPS)
        return
    start = time.perf_counter()
    for step in range(1, RELEASES + 1):
        os.stat(".")  # a system call, made without the GIL
        until = start + COST * step / (RELEASES + 1)
        while time.perf_counter() < until:
            pass
    until = start + COST
    while time.perf_counter() < until:
        pass


class _Rsgi:
    async def __rsgi__(self, scope, proto) -> None:
        await proto()
        _work()
        proto.response_bytes(200, HEADERS, BODY)


rsgi = _Rsgi()


def wsgi(environ, start_response):
    environ["wsgi.input"].read()
    _work()
    start_response("200 OK", HEADERS)
    return [BODY]


async def asgi(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    _work()
    headers = [(name.lower().encode(), value.encode()) for name, value in HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})
