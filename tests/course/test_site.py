"""The course site: index and chapter pages generated right, and rendered by a real browser."""

import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from browser import NO_CHROMIUM, check_screenshot, chromium, serve

from jaxcourse import cli, colab
from jaxcourse.course import badges
from jaxcourse.course import site as book

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts"
FORK = colab.Config(repository="https://github.com/someone/course-fork", branch="dev")


class _Links(HTMLParser):
    """Every <a>: (href, text, class)."""

    def __init__(self):
        super().__init__()
        self.links, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attrs = dict(attrs)
            self._open = [attrs.get("href"), "", attrs.get("class")]

    def handle_data(self, data):
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.links.append(tuple(self._open))
            self._open = None


def _links(page: str) -> list[tuple]:
    parser = _Links()
    parser.feed(page)
    return parser.links


def _chapter_notebook(*markdown: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# a comment, not a heading")]
    nb.cells += [nbformat.v4.new_markdown_cell(text) for text in markdown]
    return nb


# --- without a browser -------------------------------------------------------------------------


def test_title_is_the_first_markdown_heading():
    nb = _chapter_notebook(f"{badges.badge('chapters/03_x.ipynb', FORK)}\n\n# 03 · Images\n\ntext",
                           "## 1. Later")
    assert book.chapter_title(nb) == "03 · Images"
    assert book.chapter_title(_chapter_notebook("no heading here"), default="03_x") == "03_x"


def test_every_chapter_has_a_numbered_title():
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        title = book.chapter_title(nbformat.read(path, as_version=4))
        assert title.startswith(path.stem[:2]), (path.name, title)


def test_entry_links_through_the_colab_helpers(tmp_path):
    (tmp_path / "solutions" / "05_jit").mkdir(parents=True)
    (tmp_path / "solutions" / "05_jit" / "05_jit.ipynb").write_text("{}")
    nb = _chapter_notebook("# 05 · Jit")
    with_exercise = book.chapter_entry("05_jit", nb, tmp_path, FORK)
    assert with_exercise == book.Chapter(
        name="05_jit", title="05 · Jit", page="05_jit.html",
        colab=badges.colab_url("chapters/05_jit.ipynb", FORK),
        exercise=badges.colab_url(badges.opened_path("solutions/05_jit/05_jit.ipynb"), FORK))
    assert with_exercise.exercise.endswith("someone/course-fork/blob/dev/exercises/05_jit/05_jit.ipynb")
    assert book.chapter_entry("00_setup", nb, tmp_path, FORK).exercise is None


def test_index_lists_titles_pages_colab_and_exercises():
    chapters = [
        book.Chapter("00_setup", "00 · Set-up <&>", "00_setup.html", "https://colab/c0", None),
        book.Chapter("01_xor", "01 · XOR", "01_xor.html", "https://colab/c1", "https://colab/e1"),
    ]
    page = book.index_html(chapters, quick=True)
    assert "00 · Set-up &lt;&amp;&gt;" in page and "quick mode" in page
    assert _links(page) == [
        ("00_setup.html", "00 · Set-up <&>", "chapter"),
        ("https://colab/c0", "Open in Colab", "colab"),
        ("01_xor.html", "01 · XOR", "chapter"),
        ("https://colab/c1", "Open in Colab", "colab"),
        ("https://colab/e1", "exercise in Colab", "exercise"),
    ]
    assert "full mode" in book.index_html(chapters)


def test_chapter_pages_get_a_nav_bar_top_and_bottom():
    chapter = book.Chapter("01_xor", "01 · XOR", "01_xor.html", "https://colab/c1", "https://colab/e1")
    page = book.with_nav('<html><head></head><body class="jp-Notebook"><p>cells</p></body></html>',
                         chapter)
    assert page.index("<body") < page.index('nav class="jaxcourse-nav top"') < page.index("cells")
    assert page.index("cells") < page.index('nav class="jaxcourse-nav bottom"') < page.index("</body>")
    hrefs = [href for href, _, _ in _links(page)]
    assert hrefs == [book.INDEX, "https://colab/c1", "https://colab/e1"] * 2
    with pytest.raises(ValueError, match="no <body>"):
        book.with_nav("<p>no body</p>", chapter)


def test_render_drops_papermills_error_banners():
    nb = _chapter_notebook("# 09 · T")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(
        "An Exception was encountered at 'In [3]'.", metadata={"tags": [book.PAPERMILL_ERROR_TAG]}))
    page = book.render(nb)
    assert "An Exception was encountered" not in page
    assert "09 · T" in page and len(nb.cells) == 3  # the notebook itself is untouched


def test_chapters_are_named_or_all():
    assert book.chapter_paths(ROOT, []) == sorted((ROOT / "chapters").glob("*.ipynb"))
    named = book.chapter_paths(ROOT, ["01_xor", "00_setup.ipynb", str(ROOT / "chapters" / "02_mnist_mlp.ipynb")])
    assert named == [ROOT / "chapters" / f"{n}.ipynb" for n in ("01_xor", "00_setup", "02_mnist_mlp")]
    assert "book" in cli.build_parser().format_help()


def test_a_rebuild_replaces_only_its_own_pages(tmp_path):
    site = tmp_path / "site"
    (site / book.EXECUTED).mkdir(parents=True)
    for name in ("07_old.html", "index.html", "notes.html", f"{book.EXECUTED}/07_old.ipynb"):
        (site / name).write_text("stale")
    result = book.build([tmp_path / "09_missing.ipynb"], site, root=tmp_path, log=lambda line: None)
    assert result.chapters == [] and "09_missing.ipynb" in result.failures[0]
    assert sorted(p.name for p in site.iterdir()) == ["index.html", "notes.html"]
    assert _links(result.index.read_text()) == []


# --- in a real browser --------------------------------------------------------------------------


@pytest.mark.slow
def test_site_renders_inchromium(tmp_path):
    if shutil.which("chromium") is None:
        pytest.fail(NO_CHROMIUM)
    site = tmp_path / "site"
    paths = [ROOT / "chapters" / f"{name}.ipynb" for name in ("00_setup", "01_xor")]
    result = book.build(paths, site, quick=True, root=ROOT, log=lambda line: None)
    assert result.failures == []

    with serve(site, book.INDEX) as base:
        profile = tmp_path / "chromium-profile"
        index_dom = chromium(profile, "--dump-dom", f"{base}/{book.INDEX}")
        links = _links(index_dom)
        for chapter in result.chapters:
            assert (chapter.page, chapter.title, "chapter") in links
            assert (chapter.colab, "Open in Colab", "colab") in links
        assert "01 · Learning XOR with JAX" in index_dom
        xor = next(c for c in result.chapters if c.name == "01_xor")
        assert (xor.exercise, "exercise in Colab", "exercise") in links
        assert next(c for c in result.chapters if c.name == "00_setup").exercise is None

        xor_dom = chromium(profile, "--dump-dom", f"{base}/{xor.page}")
        assert xor.title in xor_dom
        assert (book.INDEX, "← all chapters", None) in _links(xor_dom)
        images = [tag for tag in xor_dom.split("<img")[1:] if 'src="data:image/png;base64,' in tag[:500]]
        assert len(images) >= 2, "the 01_xor page shows no rendered figures"

        # the index at the usual size; the chapter tall enough to reach its first figures
        shots = {"site-index.png": (book.INDEX, "1200,2400"), "site-01_xor.png": (xor.page, "1200,9000")}
        for name, (page, size) in shots.items():
            chromium(profile, f"--screenshot={tmp_path / name}", f"--window-size={size}", f"{base}/{page}")
            check_screenshot(tmp_path / name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in shots:
        shutil.copy(tmp_path / name, ARTIFACTS / name)
