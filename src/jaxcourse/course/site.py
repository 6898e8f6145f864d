"""The course as a website: every chapter executed, rendered to HTML, and listed in an index.

`build()` runs each chapter top to bottom with `notebooks.execute` (quick or full mode), converts
the executed copy to one standalone HTML page with nbconvert's `HTMLExporter` (the `lab` template:
figures are embedded as `data:image/png` URIs, so each page carries its plots and the folder can be
copied or served anywhere), adds a small navigation bar back to the index, and writes `index.html`:
each chapter's title, its page, an "Open in Colab" link and a link to its exercise where it has one.
Colab links come from `jaxcourse.course.badges`, the one place that knows the repository's address.

Why nbconvert and not Jupyter Book: nbconvert is already installed with Jupyter and nbgrader, so
the site needs no new dependency and no second toolchain, and it renders exactly what JupyterLab
renders. Jupyter Book would add a large dependency tree and a Sphinx build (its own configuration,
table of contents and theme) to produce a few static pages. The price: MathJax is loaded from its
CDN when a page is opened, so formulas render only online; text and figures need no network.
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

INDEX = "index.html"
SITE_TITLE = "JAX from first principles"
EXECUTED = "notebooks"  # executed copies, inside the site folder


@dataclass(frozen=True)
class Chapter:
    name: str  # "01_xor"
    title: str  # "01 · Learning XOR ...", the first markdown heading
    page: str  # "01_xor.html", relative to the index
    colab: str  # opens chapters/NN.ipynb in Colab
    exercise: str | None  # opens exercises/NN/NN.ipynb in Colab; None when the chapter has none


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


def chapter_title(notebook: nbformat.NotebookNode, default: str = "") -> str:
    """The text of the first markdown heading (`# 01 · Title`), or `default` when there is none."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = _HEADING.match(line)
            if match:
                return match[1]
    return default


def chapter_entry(name: str, notebook: nbformat.NotebookNode, root: Path, config=None) -> Chapter:
    """What the index says about chapter `name`; `root` is the course (for solutions/)."""
    from jaxcourse.course import badges

    solution = f"solutions/{name}/{name}.ipynb"
    exercise = (badges.colab_url(badges.opened_path(solution), config)
                if (Path(root) / solution).is_file() else None)
    return Chapter(name=name, title=chapter_title(notebook, default=name), page=f"{name}.html",
                   colab=badges.colab_url(f"chapters/{name}.ipynb", config), exercise=exercise)


_STYLE = """<style>
  body.jaxcourse-index { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
    padding: 0 1rem; color: #222; }
  .jaxcourse-index table { border-collapse: collapse; width: 100%; }
  .jaxcourse-index th, .jaxcourse-index td { text-align: left; padding: .4rem .6rem;
    border-bottom: 1px solid #ddd; }
  nav.jaxcourse-nav { font-family: system-ui, sans-serif; padding: .5rem 1rem; background: #f4f4f4;
    border-bottom: 1px solid #ddd; }
  nav.jaxcourse-nav.bottom { border-top: 1px solid #ddd; border-bottom: none; margin-top: 2rem; }
  nav.jaxcourse-nav a { margin-right: 1.2rem; }
</style>"""


def index_html(chapters: list[Chapter], *, quick: bool = False) -> str:
    """The table of contents: one row per chapter, with its page, Colab and exercise links."""
    rows = []
    for chapter in chapters:
        exercise = (f'<a class="exercise" href="{html.escape(chapter.exercise)}">exercise in Colab</a>'
                    if chapter.exercise else "(none)")
        rows.append(
            "<tr>"
            f'<td><a class="chapter" href="{html.escape(chapter.page)}">{html.escape(chapter.title)}</a></td>'
            f'<td><a class="colab" href="{html.escape(chapter.colab)}">Open in Colab</a></td>'
            f"<td>{exercise}</td>"
            "</tr>"
        )
    mode = ("quick mode (small data, few repeats): numbers and figures are smaller than a full run's"
            if quick else "full mode")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{SITE_TITLE}</title>",
        _STYLE,
        "</head>",
        '<body class="jaxcourse-index">',
        f"<h1>{SITE_TITLE}</h1>",
        f"<p>Every chapter below was executed top to bottom in {mode}. Read it here, or open it in "
        "Colab to run it yourself; exercises grade themselves with nbgrader.</p>",
        "<table>",
        "<thead><tr><th>chapter</th><th>run it</th><th>exercise</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</body>",
        "</html>",
        "",
    ])


def _nav(chapter: Chapter, where: str) -> str:
    links = [f'<a href="{INDEX}">&larr; all chapters</a>',
             f'<a href="{html.escape(chapter.colab)}">Open in Colab</a>']
    if chapter.exercise:
        links.append(f'<a href="{html.escape(chapter.exercise)}">Exercise in Colab</a>')
    return f'<nav class="jaxcourse-nav {where}">{" ".join(links)}</nav>'


_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)


def with_nav(page: str, chapter: Chapter) -> str:
    """`page` (an nbconvert HTML document) with a navigation bar after <body> and before </body>."""
    opened = _BODY_OPEN.search(page)
    closed = page.lower().rfind("</body>")
    if opened is None or closed < opened.end():
        raise ValueError(f"{chapter.name}: the rendered page has no <body>...</body>")
    head = page[:opened.start()].replace("</head>", _STYLE + "\n</head>", 1)
    return (head + page[opened.start():opened.end()] + "\n" + _nav(chapter, "top")
            + page[opened.end():closed] + _nav(chapter, "bottom") + "\n" + page[closed:])


# papermill inserts these markdown cells ("An Exception was encountered at ...") when a cell
# raises; notebooks.execute fails such a run, so a rendered page should never carry one
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"


def render(notebook: nbformat.NotebookNode) -> str:
    """One standalone HTML page, as JupyterLab shows the notebook; figures embedded as data URIs."""
    from nbconvert import HTMLExporter

    notebook = nbformat.from_dict(notebook)  # a copy: the executed notebook on disk stays as it ran
    notebook.cells = [cell for cell in notebook.cells
                      if PAPERMILL_ERROR_TAG not in cell.metadata.get("tags", [])]
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _resources = exporter.from_notebook_node(notebook)
    return body


@dataclass(frozen=True)
class BookResult:
    index: Path
    chapters: list[Chapter]
    failures: list[str]  # one line per chapter that did not execute


def build(paths: list[Path], output: Path, *, quick: bool = False, timeout: int = 600,
          root: Path | None = None, log=print) -> BookResult:
    """Execute, render and index `paths` (chapter notebooks) into `output`.

    Pages from an earlier build are removed first, so the folder holds exactly what the index
    lists. A chapter that fails to execute is left out of the index and named in `failures` (not
    logged: the caller reports them); the others are still rendered, so one broken chapter does
    not hide the rest.
    """
    from jaxcourse import timing
    from jaxcourse.course import notebooks

    output = Path(output)
    root = Path(root) if root else Path(paths[0]).resolve().parents[1]
    executed_dir = output / EXECUTED
    clean(output)
    output.mkdir(parents=True, exist_ok=True)
    chapters, failures = [], []
    for path in paths:
        path = Path(path)
        try:
            run = notebooks.execute(path, executed_dir, quick=quick, timeout=timeout)
        except (notebooks.NotebookFailure, FileNotFoundError) as err:
            failures.append(str(err))
            continue
        executed = nbformat.read(run.output, as_version=4)
        chapter = chapter_entry(path.stem, executed, root)
        (output / chapter.page).write_text(with_nav(render(executed), chapter), encoding="utf-8")
        chapters.append(chapter)
        log(f"ok   {path.name} in {timing.format_seconds(run.seconds)} -> {output / chapter.page}")
    index = output / INDEX
    index.write_text(index_html(chapters, quick=quick), encoding="utf-8")
    return BookResult(index=index, chapters=chapters, failures=failures)


def chapter_paths(root: Path, given: list[str]) -> list[Path]:
    """Chapter notebooks: all of chapters/ by default; else each name (`01_xor`) or path given."""
    root = Path(root)
    if not given:
        return sorted((root / "chapters").glob("*.ipynb"))
    paths = []
    for item in given:
        path = Path(item)
        if not path.exists():
            path = root / "chapters" / f"{path.stem}.ipynb"
        paths.append(path)
    return paths


def clean(output: Path) -> None:
    """Remove a previous build of the site: only the files `build` writes (NN_name.html, the index,
    the executed copies), so a wrong `--output` cannot cost anything else."""
    output = Path(output)
    shutil.rmtree(output / EXECUTED, ignore_errors=True)
    for page in [*output.glob("[0-9][0-9]_*.html"), output / INDEX]:
        page.unlink(missing_ok=True)
