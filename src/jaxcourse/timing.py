"""Honest timings: warm-up measured apart, results waited for, medians over repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


def wait(result):
    """Block until every JAX array in `result` (any pytree) is computed; return `result`."""
    import jax

    for leaf in jax.tree_util.tree_leaves(result):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return result


def format_seconds(seconds: float) -> str:
    """A duration with a unit a person reads at a glance: 850 ns, 12.3 µs, 4.56 ms, 1.23 s."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


@dataclass(frozen=True)
class Timing:
    """Seconds per call over repeats, with the first (compiling) call kept apart."""

    label: str
    first_call: float
    per_call: tuple[float, ...]
    calls_per_repeat: int

    @property
    def median(self) -> float:
        return statistics.median(self.per_call)

    @property
    def spread(self) -> tuple[float, float]:
        """The fastest and slowest repeat, seconds per call."""
        return min(self.per_call), max(self.per_call)

    @property
    def repeats(self) -> int:
        return len(self.per_call)

    def __str__(self) -> str:
        low, high = self.spread
        return (
            f"{self.label}: median {format_seconds(self.median)} per call "
            f"(range {format_seconds(low)} to {format_seconds(high)}, "
            f"{self.repeats} repeats x {self.calls_per_repeat} calls); "
            f"first call {format_seconds(self.first_call)}"
        )

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def _calibrate(call: Callable[[], object], target: float) -> int:
    """How many calls make one repeat last at least `target` seconds (1, 2, 5, 10, ...)."""
    number = 1
    while True:
        for factor in (1, 2, 5):
            calls = number * factor
            start = time.perf_counter()
            for _ in range(calls):
                wait(call())
            if time.perf_counter() - start >= target or calls >= 100_000:
                return calls
        number *= 10


def measure(
    fn: Callable,
    *args,
    label: str | None = None,
    repeats: int = 7,
    number: int | None = None,
    min_repeat_seconds: float = 0.05,
    **kwargs,
) -> Timing:
    """Time `fn(*args, **kwargs)`: the first call (tracing and compilation) on its own, then
    `repeats` repeats of `number` calls each, every result waited for with block_until_ready.

    With `number=None` the calls per repeat are chosen so one repeat lasts about
    `min_repeat_seconds`, so fast functions are not lost in timer noise.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if number is not None and number < 1:
        raise ValueError(f"number must be at least 1, got {number}")

    def call():
        return fn(*args, **kwargs)

    start = time.perf_counter()
    wait(call())
    first_call = time.perf_counter() - start
    if number is None:
        number = _calibrate(call, min_repeat_seconds)
    per_call = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            wait(call())
        per_call.append((time.perf_counter() - start) / number)
    return Timing(
        label=label or getattr(fn, "__name__", "function"),
        first_call=first_call,
        per_call=tuple(per_call),
        calls_per_repeat=number,
    )


def time_once(fn: Callable, *args, **kwargs) -> tuple[object, float]:
    """Run `fn` once, wait for its result, and return (result, seconds)."""
    start = time.perf_counter()
    result = wait(fn(*args, **kwargs))
    return result, time.perf_counter() - start


def compare(timings: Mapping[str, Timing] | list[Timing], baseline: str | None = None) -> str:
    """A table of medians with each row's speed-up over the baseline (the first by default)."""
    rows = list(timings.values()) if isinstance(timings, Mapping) else list(timings)
    if not rows:
        raise ValueError("nothing to compare")
    base = rows[0] if baseline is None else next((t for t in rows if t.label == baseline), None)
    if base is None:
        raise ValueError(f"no timing labelled {baseline!r}")
    width = max(len(t.label) for t in rows)
    lines = [f"{'':{width}}  {'median':>10}  {'first call':>10}  speed-up vs {base.label}"]
    for t in rows:
        lines.append(
            f"{t.label:{width}}  {format_seconds(t.median):>10}  "
            f"{format_seconds(t.first_call):>10}  {base.median / t.median:8.1f}x"
        )
    return "\n".join(lines)
