"""How an answer's behaviour is compared with the kept mistakes' (`grading/verdicts/behaviour.py`)."""

import json

import numpy as np

from jaxcourse.grading.verdicts import behaviour, wire


def _value(value) -> str:
    return json.dumps({"value": json.loads(wire.encode(value))})


def _error(kind: str, message: str) -> str:
    return json.dumps({"error": [kind, message]})


def test_an_error_is_compared_by_its_type_words_and_numbers_never_by_what_differs_between_runs():
    a = behaviour.item(_error("ValueError", "vmap got inconsistent sizes: one axis had size 784 at "
                                            "/tmp/ipykernel_4242/1234.py:3 (In[7], line 3) object at 0x7f00ab"))
    b = behaviour.item(_error("ValueError", "vmap got inconsistent sizes: one axis had size 784 at "
                                            "/tmp/ipykernel_99/555.py:9 (In[12], line 9) object at 0x7e11cd"))
    assert a == b == ["error", ["ValueError", "vmap got inconsistent sizes: one axis had size # at ( , ) object at"],
                      1, 784.0, [784.0]]
    other = behaviour.item(_error("ValueError", "vmap got inconsistent sizes: one axis had size 10 at x"))
    assert not behaviour.same([["error", [a]]], [["error", [other]]])


def test_values_are_compared_within_the_tolerance_and_text_by_its_kind_only():
    a = behaviour.item(_value((np.array([1.0, 2.0], np.float32), "/tmp/jc-1/a.ckpt")))
    b = behaviour.item(_value((np.array([1.0, 2.0 + 1e-6], np.float32), "/tmp/jc-2/b.ckpt")))
    c = behaviour.item(_value((np.array([1.0, 2.1], np.float32), "/tmp/jc-1/a.ckpt")))
    assert behaviour.same([["error", [a]]], [["error", [b]]])
    assert not behaviour.same([["error", [a]]], [["error", [c]]])
    assert not behaviour.same([["error", [a]]], [["ok", [a]]])  # each part must end the same way


def test_a_match_needs_more_than_one_shared_scalar():
    def informative(*answers):
        return behaviour.informative([["error", [behaviour.item(a) for a in answers]]])

    assert not informative(_value(0.5))
    assert not informative(_value(1.0), _value(1.0))
    assert informative(_value(1.0), _value(0.5))
    assert informative(_value(np.ones((2, 2))))  # an array's worth of one value
    assert not informative(_error("KeyError", "0"))
    assert informative(_error("TypeError", "Gradient only defined for scalar-output functions. Output was (a, b)."))


def test_a_mistake_is_named_only_when_exactly_one_behaves_alike():
    seen = [["error", [behaviour.item(_value([1.0, 3.0]))]]]
    mistake = {"task": "t", "file": "a", "why": "a", "behaviour": seen}
    assert behaviour.named_mistake(seen, {"mistakes": {"a": mistake}}, "t") == mistake
    assert behaviour.named_mistake(seen, {"mistakes": {"a": mistake}}, "another task") is None
    twin = dict(mistake, file="b")
    assert behaviour.named_mistake(seen, {"mistakes": {"a": mistake, "b": twin}}, "t") is None
