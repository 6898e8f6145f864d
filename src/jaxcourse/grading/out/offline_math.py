"""Formulas in a feedback page that read without a network: nbgrader's pages leave `$...$` for
MathJax, loaded from a CDN, so a page opened offline shows raw LaTeX. Each formula in a Markdown
cell becomes MathML (browsers draw it themselves) through `latex2mathml`; a formula whose MathML
holds anything but MathML elements and their layout attributes (latex2mathml copies `\\text{...}`
as it is, markup included) stays as the text it was."""

from __future__ import annotations

import re
from pathlib import Path

import bs4
from latex2mathml.converter import convert

MARKDOWN = re.compile(r"\b(rendered_html|jp-RenderedMarkdown)\b")
FORMULA = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$([^$\n]+?)\$", re.S)
MATHML_TAGS = {"math", "mrow", "mi", "mn", "mo", "ms", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mtext",
               "mspace", "mstyle", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mpadded", "mphantom",
               "menclose", "mfenced", "semantics", "annotation"}
MATHML_ATTRIBUTES = {"xmlns", "display", "stretchy", "fence", "separator", "width", "height", "depth", "mathvariant",
                     "accent", "accentunder", "lspace", "rspace", "columnalign", "columnspacing", "rowspacing",
                     "linethickness", "minsize", "maxsize", "movablelimits", "form", "notation", "scriptlevel",
                     "displaystyle", "symmetric", "largeop", "open", "close", "separators", "encoding"}
SKIPPED = {"code", "pre", "script", "style", "textarea", "math"}


def mathml(latex: str, display: bool) -> bs4.Tag | None:
    """The formula as a MathML element, or None when it cannot be drawn safely."""
    try:
        tree = bs4.BeautifulSoup(convert(latex, display="block" if display else "inline"), "html.parser")
    except Exception:  # latex2mathml raises its own errors and plain ones for LaTeX it cannot read
        return None
    for tag in tree.find_all(True):
        if tag.name not in MATHML_TAGS or set(tag.attrs) - MATHML_ATTRIBUTES:
            return None
    return tree.find("math")


def _replace(text: bs4.NavigableString) -> None:
    pieces: list = []
    start = 0
    for found in FORMULA.finditer(text):
        drawn = mathml(found.group(1) or found.group(2), display=found.group(1) is not None)
        if drawn is None:
            continue
        pieces += [text[start:found.start()], drawn]
        start = found.end()
    if pieces:
        pieces.append(text[start:])
        text.replace_with(*[p for p in pieces if not isinstance(p, str) or p])


def render(page: str) -> str:
    """The page with the formulas of its Markdown cells as MathML."""
    soup = bs4.BeautifulSoup(page, "html.parser")
    for cell in soup.find_all(class_=MARKDOWN):
        for text in list(cell.find_all(string=FORMULA)):
            if not any(parent.name in SKIPPED for parent in text.parents):
                _replace(text)
    return str(soup)


def render_pages(folder: Path) -> None:
    for path in folder.glob("*.html"):
        path.write_text(render(path.read_text()))
