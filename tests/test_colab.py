"""Colab: the course's settings and the runtime advice the set-up cell prints."""

import tomllib
from pathlib import Path

import pytest

from jaxcourse import colab
from jaxcourse.course import badges

ROOT = Path(__file__).resolve().parents[1]
FORK = "https://github.com/someone/my-course"


def _facts(**changes):
    base = dict(jax_version="0.10.2", backend="cpu", gpu_present=False, tpu_present=False,
                on_colab=False, jax_floor="0.7")
    return colab.Facts(**{**base, **changes})


# --- configuration and URLs ------------------------------------------------------------------------


def test_config_is_read_from_the_checkouts_pyproject():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["jaxcourse"]
    config = colab.read_config()
    assert (config.repository, config.branch) == (table["repository"], table["branch"])
    assert config.jax_floor == "0.7"


def test_the_package_defaults_match_pyproject():
    # an installed (not editable) copy has no pyproject.toml and falls back to these
    assert colab.read_config() == colab.Config()


def test_config_falls_back_to_defaults(tmp_path):
    assert colab.read_config(tmp_path / "missing.toml") == colab.Config()
    broken = tmp_path / "pyproject.toml"
    broken.write_text("this is [not toml")
    assert colab.read_config(broken) == colab.Config()


def test_a_fork_changes_one_table(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[project]\ndependencies = ["numpy", "jax >= 0.8.1"]\n'
                    f'[tool.jaxcourse]\nrepository = "{FORK}.git"\nbranch = "spring"\n')
    config = colab.read_config(path)
    assert config == colab.Config(f"{FORK}.git", "spring", "0.8.1")
    assert badges.colab_url("chapters/01_xor.ipynb", config) == (
        "https://colab.research.google.com/github/someone/my-course/blob/spring/chapters/01_xor.ipynb")


# --- advice ----------------------------------------------------------------------------------------


def test_a_cpu_only_machine_needs_nothing():
    assert colab.advise(_facts()) == []
    assert colab.advise(_facts(on_colab=True)) == []


@pytest.mark.parametrize("backend", ["gpu", "cuda"])
def test_a_gpu_that_jax_uses_needs_nothing(backend):
    assert colab.advise(_facts(backend=backend, gpu_present=True, on_colab=True)) == []


def test_a_tpu_that_jax_uses_needs_nothing():
    assert colab.advise(_facts(backend="tpu", tpu_present=True, on_colab=True)) == []


def test_a_gpu_without_cuda_extras():
    (advice,) = colab.advise(_facts(gpu_present=True, on_colab=True))
    assert "GPU" in advice and 'pip install -U "jax[cuda12]"' in advice and "restart" in advice


def test_a_tpu_without_tpu_extras():
    (advice,) = colab.advise(_facts(tpu_present=True, on_colab=True))
    assert "TPU" in advice and 'pip install -U "jax[tpu]"' in advice


def test_restart_is_colab_advice_only():
    (advice,) = colab.advise(_facts(gpu_present=True))
    assert "Runtime" not in advice and "jax[cuda12]" in advice


@pytest.mark.parametrize("version, too_old", [
    ("0.6.2", True), ("0.4.33.dev20240101", True), ("0.7", False), ("0.7.0", False),
    ("0.10.2", False), ("1.0.0rc1", False),
])
def test_the_version_floor(version, too_old):
    advice = colab.advise(_facts(jax_version=version))
    assert bool(advice) is too_old
    if too_old:
        assert 'pip install -U "jax>=0.7"' in advice[0] and version in advice[0]


def test_an_old_jax_on_a_gpu_without_extras_gets_both_fixes():
    advice = colab.advise(_facts(jax_version="0.4.30", gpu_present=True, on_colab=True))
    assert len(advice) == 2 and "older" in advice[0] and "cuda12" in advice[1]


def test_missing_or_broken_jax():
    (missing,) = colab.advise(_facts(jax_version=None, backend=None))
    assert "not installed" in missing
    (broken,) = colab.advise(_facts(backend=None))
    assert "could not start a backend" in broken


def test_version_tuple():
    assert colab.version_tuple("0.10.2") == (0, 10, 2)
    assert colab.version_tuple("0.4.33.dev20240101") == (0, 4, 33)
    assert colab.version_tuple("1.0.0rc1") == (1, 0, 0)
    assert colab.version_tuple("0.10.2") > colab.version_tuple("0.7")


def test_summary_is_one_line():
    line = colab.summary(_facts(backend="gpu", gpu_present=True, on_colab=True))
    assert line == "JAX 0.10.2 on backend gpu; GPU attached (Colab)"
    assert "\n" not in colab.summary(_facts())


def test_check_runtime_prints_one_line_here(capsys):
    assert colab.check_runtime() is None  # nothing for the notebook to display
    out = capsys.readouterr().out
    facts = colab.gather_facts()
    assert out == f"JAX {facts.jax_version} on backend {facts.backend}: ok\n"


def test_check_runtime_never_raises(monkeypatch, capsys):
    def broken(config=None):
        raise OSError("no /dev")

    monkeypatch.setattr(colab, "gather_facts", broken)
    colab.check_runtime()
    assert "runtime check skipped" in capsys.readouterr().out


# --- the set-up cell -------------------------------------------------------------------------------


# --- jaxcourse badges ------------------------------------------------------------------------------


