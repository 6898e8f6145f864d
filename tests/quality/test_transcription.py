"""Exercises make students transfer a chapter's idea: few task solutions are already in a chapter."""

from pathlib import Path

import pytest

from jaxcourse import cli
from jaxcourse.quality import transcription

ROOT = Path(__file__).resolve().parents[2]

CHAPTER_CELL = """
def loss(params, x, y):
    w1, b1, w2, b2 = params
    z = jnp.tanh(x @ w1 + b1)
    p = jax.nn.sigmoid(z @ w2 + b2)
    return -jnp.mean(y * jnp.log(p + 1e-7) + (1 - y) * jnp.log(1 - p + 1e-7))
"""
COPIED = """
def loss(params, x, y):
    ### BEGIN SOLUTION
    w1, b1, w2, b2 = params   # the chapter's names, other constants and comments
    z = jnp.tanh(x @ w1 + b1)

    p = jax.nn.sigmoid(z @ w2 + b2)
    return -jnp.mean(y * jnp.log(p + 1e-9) + (1 - y) * jnp.log(1 - p + 1e-9))
    ### END SOLUTION
"""
REWRITTEN = """
def loss(params, x, y):
    ### BEGIN SOLUTION
    logits = jax.vmap(lambda k: net(params, k, x))(keys).squeeze(-1)
    smooth = y * (1 - alpha) + alpha / 2
    return optax_free_bce(logits, smooth).sum(axis=0).mean()
    ### END SOLUTION
"""


def test_the_course_transfers_rather_than_transcribes():
    report = transcription.measure(ROOT)
    print(transcription.table(report, detail=True))
    assert sum(len(a.tasks) for a in report) >= 50, "every assignment's tasks are measured"
    assert transcription.overall(report) <= transcription.LIMIT, transcription.table(report, detail=True)


def test_literals_comments_and_layout_do_not_matter():
    assert transcription.tokens("x = f(1.5, 'a')  # note\n\n") == transcription.tokens("x = f(2, \"b\")")
    assert transcription.tokens("x = f(1)") != transcription.tokens("y = f(1)"), "names are kept"
    assert transcription.tokens("%timeit f(x)\ny = 1") == ["y", "=", "<num>"], "IPython magics are skipped"


def test_a_solution_copied_from_a_chapter_counts_and_a_rewritten_one_does_not():
    """The measure can fail: a chapter cell retyped (other constants, comments) is mostly transcribed."""
    chapters = {"01_demo": set(transcription.ngrams(CHAPTER_CELL)), "02_other": set()}
    copied, where = transcription.share(transcription.solution_block(COPIED), chapters)
    assert copied == 1.0 and where == "01_demo"
    rewritten, _ = transcription.share(transcription.solution_block(REWRITTEN), chapters)
    assert rewritten < transcription.MOSTLY
    assert transcription.TaskShare("task-01-loss", copied, where).mostly
    assert not transcription.TaskShare("task-01-loss", rewritten, "").mostly


def test_only_the_solution_block_is_measured():
    assert transcription.solution_block(COPIED).strip().startswith("w1, b1, w2, b2")
    assert "def loss" not in transcription.solution_block(COPIED)
    assert transcription.solution_block("x = 1") == "x = 1"


def test_the_share_is_the_best_single_chapter():
    half = "a = b + c\nd = e + f\n"
    chapters = {"one": set(transcription.ngrams("a = b + c\n")), "two": set(transcription.ngrams("d = e + f\n"))}
    fraction, _ = transcription.share(half, chapters)
    assert 0 < fraction < 1, "runs found in different chapters are not added up"


@pytest.mark.parametrize("share, code", [(0.1, 0), (0.5, 1)])
def test_the_command_fails_above_the_limit(monkeypatch, capsys, share, code):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(transcription, "overall", lambda report: share)
    assert cli.main(["transcription", "01_xor"]) == code
    assert "01_xor" in capsys.readouterr().out
