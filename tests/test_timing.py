import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcourse import timing


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2.5, "2.5 s"), (0.0123, "12.3 ms"), (4.56e-6, "4.56 µs"), (8.5e-7, "850 ns"), (0.0, "0 ns")],
)
def test_format_seconds_picks_a_readable_unit(seconds, text):
    assert timing.format_seconds(seconds) == text


def test_format_seconds_rejects_negative_durations():
    with pytest.raises(ValueError):
        timing.format_seconds(-1.0)


def test_measure_keeps_the_first_call_apart_and_counts_calls():
    calls = []

    def slow_first(x):
        calls.append(x)
        time.sleep(0.05 if len(calls) == 1 else 0.001)
        return x

    result = timing.measure(slow_first, 1, repeats=3, number=2)
    assert len(calls) == 1 + 3 * 2
    assert result.first_call >= 0.05 > result.median
    assert result.repeats == 3 and result.calls_per_repeat == 2
    assert result.spread[0] <= result.median <= result.spread[1]


def test_measure_calibrates_calls_for_fast_functions():
    result = timing.measure(lambda: None, repeats=2, min_repeat_seconds=0.005)
    assert result.calls_per_repeat > 1


def test_measure_waits_for_jax_results():
    f = jax.jit(lambda x: (x @ x).sum())
    x = jnp.ones((300, 300))
    result = timing.measure(f, x, label="matmul", repeats=3)
    assert result.label == "matmul" and result.median > 0
    assert "matmul: median" in str(result) and "first call" in str(result)


def test_wait_blocks_every_leaf_of_a_pytree():
    waited = []

    class Leaf:
        def block_until_ready(self):
            waited.append(self)
            return self

    tree = {"a": Leaf(), "b": [Leaf(), np.ones(2)]}
    assert timing.wait(tree) is tree
    assert len(waited) == 2


def test_measure_rejects_nonsense_counts():
    with pytest.raises(ValueError):
        timing.measure(lambda: None, repeats=0)
    with pytest.raises(ValueError):
        timing.measure(lambda: None, number=0)


def test_time_once_returns_the_result_and_its_duration():
    result, seconds = timing.time_once(lambda: jnp.ones(3) * 2)
    assert float(result.sum()) == 6.0 and seconds > 0


def test_compare_shows_speed_up_against_the_baseline():
    slow = timing.Timing("slow", 0.1, (0.010, 0.010, 0.012), 1)
    fast = timing.Timing("fast", 0.5, (0.001, 0.001, 0.002), 10)
    table = timing.compare([slow, fast])
    assert "10.0x" in table and "1.0x" in table
    assert "0.1x" in timing.compare({"s": slow, "f": fast}, baseline="fast")
    with pytest.raises(ValueError, match="no timing labelled"):
        timing.compare([slow], baseline="nope")
    with pytest.raises(ValueError):
        timing.compare([])
