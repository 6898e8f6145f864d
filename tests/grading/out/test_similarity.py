"""The similar-submission detector on crafted answers to the course's JAX exercises.

Each task has an original answer, copies of it (renamed; reordered with an extra line) and
answers written independently. Scores are printed: run with `-s` to read them.
"""

from __future__ import annotations

import itertools
import random
import re
import time

import pytest

from jaxcourse.grading.out.similarity import Pair, fingerprint, similar_pairs, similarity

# --- task: forward pass of an MLP, tanh hidden layers and a sigmoid output ----------------------

FORWARD = '''
def forward(params, x):
    # hidden layers with tanh, sigmoid on the output
    *hidden, (w_out, b_out) = params
    h = x
    for w, b in hidden:
        h = jnp.tanh(h @ w + b)
    logits = h @ w_out + b_out
    return jax.nn.sigmoid(logits)
'''

FORWARD_RENAMED = '''
def forward(p, inputs):
    *layers, (W_last, bias_last) = p

    a = inputs   # start from the input
    for W, bias in layers:
        # tanh on every hidden layer
        a = jnp.tanh(a @ W + bias)

    z = a @ W_last + bias_last
    return jax.nn.sigmoid(z)  # probabilities
'''

FORWARD_INDEXING = '''
def forward(params, x):
    activations = x
    for layer in params[:-1]:
        activations = jnp.tanh(jnp.dot(activations, layer[0]) + layer[1])
    last = params[-1]
    return 1 / (1 + jnp.exp(-(jnp.dot(activations, last[0]) + last[1])))
'''

FORWARD_UNPACKING = '''
def forward(params, x):
    w1, b1, w2, b2 = params
    hidden = jnp.tanh(jnp.dot(x, w1) + b1)
    output = jnp.dot(hidden, w2) + b2
    return jax.nn.sigmoid(output)
'''

FORWARD_TWO_LAYERS_INDEXING = '''
def forward(params, x):
    h = jnp.tanh(x @ params[0] + params[1])
    return 1.0 / (1.0 + jnp.exp(-(h @ params[2] + params[3])))
'''

# --- task: binary cross-entropy --------------------------------------------------------------------

CROSS_ENTROPY = '''
def cross_entropy(y_hat, y, eps=1e-7):
    """Mean binary cross-entropy."""
    y_hat = jnp.clip(y_hat, eps, 1 - eps)
    positive = y * jnp.log(y_hat)
    negative = (1 - y) * jnp.log(1 - y_hat)
    return -jnp.mean(positive + negative)
'''

CROSS_ENTROPY_RENAMED = '''
def cross_entropy(pred, target, eps=1e-6):
    # keep the logs finite
    pred = jnp.clip(pred, eps, 1.0 - eps)
    pos = target * jnp.log(pred)
    neg = (1.0 - target) * jnp.log(1.0 - pred)

    return -jnp.mean(pos + neg)
'''

CROSS_ENTROPY_REORDERED = '''
def cross_entropy(y_hat, y, eps=1e-7):
    y_hat = jnp.clip(y_hat, eps, 1 - eps)
    negative = (1 - y) * jnp.log(1 - y_hat)
    positive = y * jnp.log(y_hat)
    n = y.shape[0]
    return -jnp.mean(positive + negative)
'''

CROSS_ENTROPY_SUM_LEN = '''
def cross_entropy(y_hat, y, eps=1e-7):
    losses = -(y * jnp.log(y_hat + eps) + (1 - y) * jnp.log(1 - y_hat + eps))
    return losses.sum() / len(y)
'''

CROSS_ENTROPY_WHERE = '''
def cross_entropy(y_hat, y, eps=1e-7):
    p = jnp.clip(y_hat, eps, 1 - eps)
    per_example = jnp.where(y == 1, -jnp.log(p), -jnp.log(1 - p))
    return jnp.mean(per_example)
'''

# --- task: a training loop compiled as one function ------------------------------------------------

TRAIN = '''
@partial(jax.jit, static_argnames=("loss_fn", "steps"))
def train(loss_fn, params, x, y, lr, steps):
    grad_fn = jax.value_and_grad(loss_fn)

    def one_step(params, _):
        loss, grads = grad_fn(params, x, y)
        params = jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
        return params, loss

    params, losses = jax.lax.scan(one_step, params, None, length=steps)
    return params, losses
'''

TRAIN_RENAMED = '''
@partial(jax.jit, static_argnames=("loss_fn", "steps"))
def train(loss_fn, theta, inputs, targets, learning_rate, steps):
    value_grad = jax.value_and_grad(loss_fn)
    def update(theta, unused):
        # one step of gradient descent
        value, g = value_grad(theta, inputs, targets)
        theta = jax.tree_util.tree_map(lambda t, d: t - learning_rate * d, theta, g)
        return theta, value
    theta, history = jax.lax.scan(update, theta, None, length=steps)
    return theta, history
'''

TRAIN_REORDERED = '''
@partial(jax.jit, static_argnames=("loss_fn", "steps"))
def train(loss_fn, params, x, y, lr, steps):
    def one_step(params, _):
        loss, grads = grad_fn(params, x, y)
        params = jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
        return params, loss

    grad_fn = jax.value_and_grad(loss_fn)
    params = tuple(params)
    params, losses = jax.lax.scan(one_step, params, None, length=steps)
    return params, losses
'''

TRAIN_FORI_LOOP = '''
@partial(jax.jit, static_argnames=("loss_fn", "steps"))
def train(loss_fn, params, x, y, lr, steps):
    def body(i, carry):
        p, history = carry
        value, g = jax.value_and_grad(loss_fn)(p, x, y)
        p = tuple(pi - lr * gi for pi, gi in zip(p, g))
        return p, history.at[i].set(value)

    return jax.lax.fori_loop(0, steps, body, (tuple(params), jnp.zeros(steps)))
'''

TRAIN_PYTHON_LOOP = '''
@partial(jax.jit, static_argnames=("loss_fn", "steps"))
def train(loss_fn, params, x, y, lr, steps):
    losses = []
    for _ in range(steps):
        loss = loss_fn(params, x, y)
        grads = jax.grad(loss_fn)(params, x, y)
        params = [w - lr * dw for w, dw in zip(params, grads)]
        losses.append(loss)
    return tuple(params), jnp.stack(losses)
'''

# --- task: a_i = a_{i-1} + a_{i-2} into an array ---------------------------------------------------

RECURRENCE = '''
@partial(jax.jit, static_argnames="n")
def recurrence(a0, a1, n):
    a = jnp.zeros(n)
    a = a.at[0].set(a0)
    a = a.at[1].set(a1)
    for i in range(2, n):
        a = a.at[i].set(a[i - 1] + a[i - 2])
    return a
'''

RECURRENCE_RENAMED = '''
@partial(jax.jit, static_argnames="n")
def recurrence(first, second, n):
    # fill in the sequence one element at a time
    seq = jnp.zeros(n)
    seq = seq.at[0].set(first)
    seq = seq.at[1].set(second)

    for k in range(3, n):
        seq = seq.at[k].set(seq[k - 1] + seq[k - 2])  # a[k] = a[k-1] + a[k-2]
    return seq
'''

RECURRENCE_REORDERED = '''
@partial(jax.jit, static_argnames="n")
def recurrence(a0, a1, n):
    a = jnp.zeros(n)
    a = a.at[1].set(a1)
    a = a.at[0].set(a0)
    for i in range(2, n):
        a = a.at[i].set(a[i - 1] + a[i - 2])
    return a
'''

RECURRENCE_SCAN = '''
@partial(jax.jit, static_argnames="n")
def recurrence(a0, a1, n):
    def step(carry, _):
        previous, current = carry
        return (current, previous + current), current

    _, values = jax.lax.scan(step, (a0, a1), None, length=n)
    return values
'''

RECURRENCE_FORI_LOOP = '''
@partial(jax.jit, static_argnames="n")
def recurrence(a0, a1, n):
    def body(i, a):
        return a.at[i].set(a[i - 1] + a[i - 2])

    start = jnp.zeros(n).at[0].set(a0).at[1].set(a1)
    return jax.lax.fori_loop(2, n, body, start)
'''

RENAMED_COPIES = {
    "forward": (FORWARD, FORWARD_RENAMED),
    "cross_entropy": (CROSS_ENTROPY, CROSS_ENTROPY_RENAMED),
    "train": (TRAIN, TRAIN_RENAMED),
    "recurrence": (RECURRENCE, RECURRENCE_RENAMED),
}

REORDERED_COPIES = {
    "cross_entropy: swap + unused line": (CROSS_ENTROPY, CROSS_ENTROPY_REORDERED),
    "train: inner def moved + extra line": (TRAIN, TRAIN_REORDERED),
    "recurrence: two .set swapped": (RECURRENCE, RECURRENCE_REORDERED),
}

INDEPENDENT_ANSWERS = {
    "forward": [FORWARD, FORWARD_INDEXING],
    "forward, two layers": [FORWARD_UNPACKING, FORWARD_TWO_LAYERS_INDEXING],
    "cross_entropy": [CROSS_ENTROPY, CROSS_ENTROPY_SUM_LEN, CROSS_ENTROPY_WHERE],
    "train": [TRAIN, TRAIN_FORI_LOOP, TRAIN_PYTHON_LOOP],
    "recurrence": [RECURRENCE, RECURRENCE_SCAN, RECURRENCE_FORI_LOOP],
}
INDEPENDENT_PAIRS = {
    f"{task} {i}~{j}": (answers[i], answers[j])
    for task, answers in INDEPENDENT_ANSWERS.items()
    for i, j in itertools.combinations(range(len(answers)), 2)
}


def score(pair: tuple[str, str]) -> float:
    return similarity(fingerprint(pair[0]), fingerprint(pair[1]))


def two_students(first: str, second: str, cell: str = "task-01") -> dict[str, dict[str, str]]:
    return {"ana": {cell: first}, "ben": {cell: second}}


# --- fingerprints ----------------------------------------------------------------------------------


def test_fingerprint_keeps_attributes_builtins_and_semantic_constants():
    tokens = fingerprint("def f(x):\n    return [jnp.tanh(x) for _ in range(3)], None, 'a'")
    assert "Attribute:tanh" in tokens and "Name:range" in tokens and "Constant:None" in tokens
    assert "Constant:<number>" in tokens and "Constant:<str>" in tokens
    assert not {"Name:x", "arg:x", "Name:jnp", "FunctionDef:f"} & set(tokens)


def test_fingerprint_ignores_docstrings_comments_layout_and_literal_values():
    plain = "def f(x):\n    y = x * 0.1\n    return y.mean()\n"
    dressed = (
        'def g(z):\n    """Doc."""\n\n    w = z  *  0.05  # scale\n    "a bare string"\n    return w.mean()\n'
    )
    assert fingerprint(plain) == fingerprint(dressed)
    assert fingerprint("y = x.mean()") != fingerprint("y = x.sum()")


def test_fingerprint_strips_magics_and_shell_lines():
    code = "def f(x):\n    return x.sum()\n"
    assert fingerprint("%%time\n!pip install jax\n" + code + "%timeit f(1)\n") == fingerprint(code)


def test_similarity_is_one_only_for_the_same_structure_even_when_tiny():
    assert similarity(fingerprint("x"), fingerprint("y")) == 1.0
    assert similarity(fingerprint("x"), fingerprint("1")) == 0.0
    assert similarity(fingerprint(""), fingerprint("")) == 1.0


def test_unparsable_code_has_no_fingerprint_and_is_skipped():
    broken = "def forward(params, x)\n    return x @ params[0]\n"
    assert fingerprint(broken) is None
    answers = {
        "ana": {"task-05": RECURRENCE},
        "ben": {"task-05": broken},
        "cem": {"task-05": "x = !ls"},
        "dan": {"task-05": RECURRENCE_RENAMED},
    }
    assert similar_pairs(answers) == [Pair("ana", "dan", "task-05", 1.0)]


# --- the crafted cases -----------------------------------------------------------------------------


@pytest.mark.parametrize("task", RENAMED_COPIES)
def test_a_renamed_and_recommented_copy_is_found(task):
    original, copy = RENAMED_COPIES[task]
    print(f"\nrenamed copy, {task}: {score((original, copy)):.3f}")
    assert similar_pairs(two_students(original, copy)) == [Pair("ana", "ben", "task-01", 1.0)]


@pytest.mark.parametrize("case", REORDERED_COPIES)
def test_a_reordered_copy_with_an_extra_line_still_scores_high(case):
    value = score(REORDERED_COPIES[case])
    print(f"\nreordered copy, {case}: {value:.3f}")
    assert value >= 0.8


@pytest.mark.parametrize("case", INDEPENDENT_PAIRS)
def test_independent_answers_to_the_same_task_are_not_flagged(case):
    first, second = INDEPENDENT_PAIRS[case]
    assert min(len(fingerprint(first)), len(fingerprint(second))) >= 40, "short answers prove nothing"
    print(f"\nindependent, {case}: {score((first, second)):.3f}")
    assert similar_pairs(two_students(first, second)) == []


def test_the_threshold_is_the_knob():
    answers = two_students(TRAIN_FORI_LOOP, TRAIN_PYTHON_LOOP, "task-04-train")
    value = score((TRAIN_FORI_LOOP, TRAIN_PYTHON_LOOP))
    assert similar_pairs(answers) == []
    assert similar_pairs(answers, threshold=0.3) == [Pair("ana", "ben", "task-04-train", value)]


def test_short_answers_are_skipped_because_everyone_writes_them_alike():
    answers = two_students("def f(x):\n    return x + 1\n", "def f(y):\n    return y + 2\n")
    answers |= {"cem": {}, "dan": {"task-02": "pass"}}
    assert similar_pairs(answers) == []
    assert similar_pairs(answers, min_tokens=0) == [Pair("ana", "ben", "task-01", 1.0)]


def test_pairs_come_most_similar_first_then_by_name():
    answers = {
        "dan": {"task-02": CROSS_ENTROPY, "task-04": TRAIN, "task-05": RECURRENCE},
        "ana": {"task-02": CROSS_ENTROPY_REORDERED, "task-04": TRAIN_RENAMED},
        "cem": {"task-04": TRAIN_FORI_LOOP, "task-05": RECURRENCE_RENAMED},
        "ben": {"task-05": "def broken("},
    }
    pairs = similar_pairs(answers, threshold=0.8)
    assert [(p.first, p.second, p.cell) for p in pairs] == [
        ("ana", "dan", "task-04"), ("cem", "dan", "task-05"), ("ana", "dan", "task-02"),
    ]
    assert pairs[0].score == pairs[1].score == 1.0 > pairs[2].score


# --- a whole class ---------------------------------------------------------------------------------

STATEMENTS = [
    "h = jnp.tanh(x @ w + b)",
    "z = jnp.dot(h, w) + b",
    "loss = -jnp.mean(y * jnp.log(p + 1e-7))",
    "grads = jax.grad(loss_fn)(params, x, y)",
    "params = [p - lr * g for p, g in zip(params, grads)]",
    "a = a.at[i].set(a[i - 1] + a[i - 2])",
    "for i in range(n):\n        total = total + x[i]",
    "carry, ys = jax.lax.scan(step, carry, xs)",
    "key, sub = jax.random.split(key)",
    "mask = jax.random.bernoulli(sub, 0.5, x.shape)",
    "x = jnp.where(mask, x / 0.5, 0.0)",
    "n = x.shape[0]",
    "if n > 1:\n        x = x - x.mean(axis=0)",
    "values = jax.vmap(f, in_axes=(None, 0))(x, ys)",
    "best = jnp.argmax(values)",
    "w = w.reshape(-1, 1)",
    "s = jnp.sum(x ** 2)",
    "out = jax.lax.fori_loop(0, n, body, x)",
    "x = x.T if x.ndim == 2 else x",
    "acc = jnp.mean(jnp.argmax(logits, axis=1) == labels)",
    "ys = [f(v) for v in xs if v is not None]",
    "while err > tol:\n        err = err / 2",
    "w, b = params[0], params[1]",
    "logits = logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)",
    "x = jax.device_put(x, sharding)",
    "compiled = jax.jit(f).lower(x).compile()",
]


def some_answer(rng: random.Random, cell: int) -> str:
    body = "\n".join(f"    {line}" for line in rng.sample(STATEMENTS, rng.randint(5, 9)))
    return f"def task_{cell}(params, x, y, lr):\n{body}\n    return x\n"


def renamed(code: str) -> str:
    return re.sub(r"\b(x|params|h|n)\b", lambda m: f"my_{m.group(1)}", code).replace("0.5", "0.25")


def test_a_class_of_200_students_and_6_cells():
    rng = random.Random(0)
    students = [f"student-{i:03d}" for i in range(200)]
    answers = {s: {f"task-{c:02d}": some_answer(rng, c) for c in range(6)} for s in students}
    answers["student-199"]["task-03"] = renamed(answers["student-007"]["task-03"])

    start = time.perf_counter()
    pairs = similar_pairs(answers)
    print(f"\n200 students x 6 cells: {time.perf_counter() - start:.2f} s, {len(pairs)} pairs")
    assert pairs == [Pair("student-007", "student-199", "task-03", 1.0)]
