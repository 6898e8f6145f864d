"""Colab support: the configured address, badge URLs, the set-up cell and the runtime advice."""

import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest

from jaxcourse import cli, colab, data

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
    assert colab.colab_url("chapters/01_xor.ipynb", config) == (
        "https://colab.research.google.com/github/someone/my-course/blob/spring/chapters/01_xor.ipynb")


def test_colab_url_and_badge():
    config = colab.Config("https://github.com/jax-course/jax-from-first-principles/", "main")
    url = colab.colab_url("exercises/01_xor/01_xor.ipynb", config)
    assert url == ("https://colab.research.google.com/github/jax-course/jax-from-first-principles"
                   "/blob/main/exercises/01_xor/01_xor.ipynb")
    line = colab.badge("exercises/01_xor/01_xor.ipynb", config)
    assert line == f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
    assert colab.is_badge_line(line) and not colab.is_badge_line("# 01 · XOR")


def test_only_github_addresses_are_accepted():
    with pytest.raises(ValueError, match="github.com"):
        colab.colab_url("x.ipynb", colab.Config("https://gitlab.com/a/b"))


def test_solutions_open_their_release():
    assert colab.opened_path("solutions/05_jit/05_jit.ipynb") == "exercises/05_jit/05_jit.ipynb"
    assert colab.opened_path("chapters/05_jit.ipynb") == "chapters/05_jit.ipynb"


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


def test_the_setup_cell_installs_the_course_only_on_colab(monkeypatch, capsys):
    config = colab.Config(FORK, "spring")
    source = colab.setup_source(config)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(source, "setup", "exec"), {})
    assert calls == [], "outside Colab the cell must install nothing"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "setup", "exec"), {})
    clone, install = calls
    assert clone[:2] == ["git", "clone"] and FORK in clone and "spring" in clone
    assert clone[-1] == colab.CLONE_DIR
    assert install[1:] == ["-m", "pip", "install", "-q", "--no-deps", "-e", colab.CLONE_DIR]
    assert not any("jax" in part for part in install[:-1]), "Colab's own JAX must be kept"
    assert sys.path[0] == f"{colab.CLONE_DIR}/src"
    assert capsys.readouterr().out.count("JAX ") == 2


def test_the_clone_keeps_the_data_where_jaxcourse_looks():
    # jaxcourse.data looks two folders above its own file: CLONE_DIR/src/jaxcourse/data.py
    package = Path(colab.CLONE_DIR) / "src" / "jaxcourse" / "data.py"
    assert package.parents[2] == Path(colab.CLONE_DIR)
    assert (ROOT / data.BUNDLED_FILE).is_file()
    assert Path(data.__file__).resolve().parents[2] == ROOT


def test_chapter_07_asks_for_cpu_devices_before_the_check():
    source = colab.setup_source(colab.Config(), cpu_devices=8)
    assert source.index("runtime.request_cpu_devices(8)") < source.index("colab.check_runtime()")
    assert "request_cpu_devices" not in colab.setup_source(colab.Config())
    # only a notebook whose own set-up cell asks (07), not one that shows the request failing (00)
    for name, asks in (("07_vmap_pmap", True), ("00_setup", False)):
        cells = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4).cells
        setup = next(c for c in cells if c.id == colab.SETUP_CELL_ID)
        assert ("request_cpu_devices(8)" in setup.source) is asks, name


def test_every_notebook_opens_with_the_setup_cell():
    for path in colab.stamped_notebooks(ROOT):
        cells = nbformat.read(path, as_version=4).cells
        first_code = next(c for c in cells if c.cell_type == "code")
        assert first_code.id == colab.SETUP_CELL_ID, path.name
        assert colab.is_badge_line(cells[0].source.splitlines()[0]), path.name


# --- jaxcourse badges ------------------------------------------------------------------------------


def _course_copy(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "chapters").mkdir(parents=True)
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, course)
    for name in ("01_xor", "07_vmap_pmap"):
        shutil.copy2(ROOT / "chapters" / f"{name}.ipynb", course / "chapters")
    shutil.copytree(ROOT / "solutions" / "01_xor", course / "solutions" / "01_xor")
    return course


def test_badges_check_passes_on_the_real_tree(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert cli.main(["badges", "--check"]) == 0


def test_badges_check_finds_a_stale_badge_and_badges_fixes_it(tmp_path, monkeypatch, capsys):
    course = _course_copy(tmp_path)
    monkeypatch.chdir(course)
    assert cli.main(["badges", "--check"]) == 0
    path = course / "chapters" / "01_xor.ipynb"
    path.write_text(path.read_text().replace("/blob/main/", "/blob/old-branch/", 1))
    before = {p: p.read_text() for p in course.rglob("*.ipynb")}
    assert cli.main(["badges", "--check"]) == 1
    err = capsys.readouterr().err
    assert "chapters/01_xor.ipynb: badge" in err and "07_vmap_pmap" not in err
    assert {p: p.read_text() for p in course.rglob("*.ipynb")} == before, "--check changed a file"
    assert cli.main(["badges"]) == 0
    assert cli.main(["badges", "--check"]) == 0
    assert path.read_text() == (ROOT / "chapters" / "01_xor.ipynb").read_text()


def test_badges_follow_a_fork_and_restamp_idempotently(tmp_path, monkeypatch, capsys):
    course = _course_copy(tmp_path)
    pyproject = course / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(colab.DEFAULT_REPOSITORY, FORK))
    monkeypatch.chdir(course)
    assert cli.main(["badges", "--check"]) == 1
    assert cli.main(["badges"]) == 0
    once = {p: p.read_text() for p in course.rglob("*.ipynb")}
    assert cli.main(["badges"]) == 0
    assert {p: p.read_text() for p in course.rglob("*.ipynb")} == once
    solution = nbformat.read(course / "solutions" / "01_xor" / "01_xor.ipynb", as_version=4)
    first = solution.cells[0].source.splitlines()
    assert first[0] == colab.badge("exercises/01_xor/01_xor.ipynb", colab.Config(FORK, "main"))
    assert sum(colab.is_badge_line(line) for line in first) == 1
    setup = next(c for c in solution.cells if c.cell_type == "code")
    assert setup.id == colab.SETUP_CELL_ID and f'"{FORK}"' in setup.source
    assert setup.metadata.nbgrader.locked, "students must not be able to change the set-up cell"
    ids = [c.id for c in solution.cells]
    assert len(ids) == len(set(ids))
    original = nbformat.read(ROOT / "solutions" / "01_xor" / "01_xor.ipynb", as_version=4)
    assert [c.source for c in solution.cells[2:]] == [c.source for c in original.cells[2:]]
