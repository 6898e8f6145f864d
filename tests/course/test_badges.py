"""The Colab badge and set-up cell stamped into every notebook from pyproject's address."""

import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from jaxcourse import cli, colab, data
from jaxcourse.course import badges

ROOT = Path(__file__).resolve().parents[2]
FORK = "https://github.com/someone/my-course"


# --- configuration and URLs ------------------------------------------------------------------------


def test_colab_url_and_badge():
    config = colab.Config("https://github.com/jax-course/jax-from-first-principles/", "main")
    url = badges.colab_url("exercises/01_xor/01_xor.ipynb", config)
    assert url == ("https://colab.research.google.com/github/jax-course/jax-from-first-principles"
                   "/blob/main/exercises/01_xor/01_xor.ipynb")
    line = badges.badge("exercises/01_xor/01_xor.ipynb", config)
    assert line == f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
    assert badges.is_badge_line(line) and not badges.is_badge_line("# 01 · XOR")


def test_only_github_addresses_are_accepted():
    with pytest.raises(ValueError, match="github.com"):
        badges.colab_url("x.ipynb", colab.Config("https://gitlab.com/a/b"))


def test_solutions_open_their_release():
    assert badges.opened_path("solutions/05_jit/05_jit.ipynb") == "exercises/05_jit/05_jit.ipynb"
    assert badges.opened_path("chapters/05_jit.ipynb") == "chapters/05_jit.ipynb"


# --- advice ----------------------------------------------------------------------------------------


# --- the set-up cell -------------------------------------------------------------------------------


def test_the_setup_cell_installs_the_course_only_on_colab(monkeypatch, capsys):
    config = colab.Config(FORK, "spring")
    source = badges.setup_source(config)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(source, "setup", "exec"), {})
    assert calls == [], "outside Colab the cell must install nothing"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "setup", "exec"), {})
    clone, install = calls
    assert clone[:2] == ["git", "clone"] and FORK in clone and "spring" in clone
    assert clone[-1] == badges.CLONE_DIR
    assert install[1:] == ["-m", "pip", "install", "-q", "--no-deps", "-e", badges.CLONE_DIR]
    assert not any("jax" in part for part in install[:-1]), "Colab's own JAX must be kept"
    assert sys.path[0] == f"{badges.CLONE_DIR}/src"
    assert capsys.readouterr().out.count("JAX ") == 2


def test_the_clone_keeps_the_data_where_jaxcourse_looks():
    # jaxcourse.data looks two folders above its own file: CLONE_DIR/src/jaxcourse/data.py
    package = Path(badges.CLONE_DIR) / "src" / "jaxcourse" / "data.py"
    assert package.parents[2] == Path(badges.CLONE_DIR)
    assert (ROOT / data.BUNDLED_FILE).is_file()
    assert Path(data.__file__).resolve().parents[2] == ROOT


def test_chapter_07_asks_for_cpu_devices_before_the_check():
    source = badges.setup_source(colab.Config(), cpu_devices=8)
    assert source.index("runtime.request_cpu_devices(8)") < source.index("colab.check_runtime()")
    assert "request_cpu_devices" not in badges.setup_source(colab.Config())
    # only a notebook whose own set-up cell asks (07), not one that shows the request failing (00)
    for name, asks in (("07_vmap_pmap", True), ("00_setup", False)):
        cells = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4).cells
        setup = next(c for c in cells if c.id == badges.SETUP_CELL_ID)
        assert ("request_cpu_devices(8)" in setup.source) is asks, name


def test_notebooks_that_import_the_ecosystem_install_it_on_colab(monkeypatch):
    config = colab.read_config(ROOT / "pyproject.toml")
    source = badges.setup_source(config, extras=["flax", "optax", "orbax-checkpoint"])
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "setup", "exec"), {})
    _, _, extras = calls
    pins = [r for r in config.requirements if r.split(">")[0].split("=")[0] in ("flax", "optax", "orbax-checkpoint")]
    assert len(pins) == 3 and extras[-3:] == pins, "installs pyproject's own version ranges"
    assert not any(part.startswith("jax") for part in extras), "Colab's own JAX must be kept"
    # stamped only where a notebook imports them
    for name, wanted in (("09_ecosystem", True), ("02_mnist_mlp", False)):
        cells = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4).cells
        setup = next(c for c in cells if c.id == badges.SETUP_CELL_ID)
        assert ("orbax-checkpoint" in setup.source) is wanted, name
    assert "flax" not in badges.setup_source(config)


def test_every_notebook_opens_with_the_setup_cell():
    for path in badges.stamped_notebooks(ROOT):
        cells = nbformat.read(path, as_version=4).cells
        first_code = next(c for c in cells if c.cell_type == "code")
        assert first_code.id == badges.SETUP_CELL_ID, path.name
        assert badges.is_badge_line(cells[0].source.splitlines()[0]), path.name
        copies = [c.id for c in cells if c.cell_type == "code" and c.id != badges.SETUP_CELL_ID
                  and c.source.startswith(first_code.source.splitlines()[0])]
        assert not copies, f"{path.name}: a second set-up cell (a stale copy, id {copies[0]}) runs the clone again"


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
    assert first[0] == badges.badge("exercises/01_xor/01_xor.ipynb", colab.Config(FORK, "main"))
    assert sum(badges.is_badge_line(line) for line in first) == 1
    setup = next(c for c in solution.cells if c.cell_type == "code")
    assert setup.id == badges.SETUP_CELL_ID and f'"{FORK}"' in setup.source
    assert setup.metadata.nbgrader.locked, "students must not be able to change the set-up cell"
    ids = [c.id for c in solution.cells]
    assert len(ids) == len(set(ids))
    original = nbformat.read(ROOT / "solutions" / "01_xor" / "01_xor.ipynb", as_version=4)
    assert [c.source for c in solution.cells[2:]] == [c.source for c in original.cells[2:]]
