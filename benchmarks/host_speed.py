"""How steady this host's CPUs are: the speed of a fixed piece of Python work, window by window.

A p99 measured over a 10 s round (benchmarks/serving.py) depends on the host running at one
speed for those 10 s. On a virtual machine it may not: another tenant on the same physical core
can slow a vCPU down for a while. This runs the same small piece of work (a dict of 120 strings
made and dumped as JSON) in a loop, in one process per `--processes`, counting how many times it
completes per second of the process's own CPU time in each `--window-ms` window (so waiting
for a core does not count), and prints, per process:

- the rate of a fast window (the 90th percentile of the windows' counts);
- the share of windows below 75 % of it ("slow"), and the longest runs of slow windows.

On a host that does nothing else, a quiet machine shows few slow windows; many, or runs of
hundreds of milliseconds, mean that two runs of any benchmark differ by the host's luck more
than by the code's.

    .venv/bin/python benchmarks/host_speed.py --seconds 20 --processes 2
"""

import argparse
import json
import multiprocessing
import time


def _work() -> str:
    numbers = {}
    for i in range(120):
        numbers[i] = str(i)
    return json.dumps(numbers)


def windows(seconds: float, window: float) -> list[float]:
    """How many times the work completed per second of this process's own CPU time, in each
    window of `window` seconds: time the process spent waiting for a core does not count, so
    a slow window is the CPU itself running slower."""
    clock, cpu = time.perf_counter, time.thread_time
    rates = []
    end = clock() + seconds
    while clock() < end:
        start, cpu_start, done = clock(), cpu(), 0
        while clock() - start < window:
            _work()
            done += 1
        rates.append(done / max(cpu() - cpu_start, 1e-9))
    return rates


def summary(rates: list[float], window_ms: float) -> dict:
    """The fast rate, the share of slow windows and the longest runs of them (in ms)."""
    fast = sorted(rates)[int(len(rates) * 0.9)]
    slow = [rate < 0.75 * fast for rate in rates]
    runs, current = [], 0
    for is_slow in [*slow, False]:
        if is_slow:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    return {
        "fast_per_s": fast,
        "slow_share": sum(slow) / len(slow),
        "slowest_speed": min(rates) / fast,
        "longest_ms": [int(run * window_ms) for run in sorted(runs, reverse=True)[:5]],
    }


def _measure(args: tuple[float, float]) -> list[float]:
    return windows(*args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=2, help="one busy process per vCPU")
    parser.add_argument("--window-ms", type=float, default=20)
    args = parser.parse_args()
    with multiprocessing.Pool(args.processes) as pool:
        results = pool.map(_measure, [(args.seconds, args.window_ms / 1000)] * args.processes)
    print(
        f"{args.processes} process(es) running the same Python work for {args.seconds:g} s, "
        f"counted per CPU second in each {args.window_ms:g} ms window; slow: under 75 % of a "
        "fast window "
        "(the 90th percentile)\n"
    )
    print(
        "| process | fast windows, work per CPU s | slow windows | slowest window | longest slow runs |"
    )
    print("|---|---|---|---|---|")
    for number, rates in enumerate(results, 1):
        result = summary(rates, args.window_ms)
        longest = ", ".join(f"{ms} ms" for ms in result["longest_ms"]) or "none"
        print(
            f"| {number} | {result['fast_per_s']:,.0f} | {100 * result['slow_share']:.0f} % "
            f"| {100 * result['slowest_speed']:.0f} % of fast | {longest} |"
        )


if __name__ == "__main__":
    main()
