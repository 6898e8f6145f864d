"""Feedback pages render what students chose (file names, grade ids, Markdown) as text, never as
markup: nbconvert as nbgrader's feedback runs it, with the config the grader writes."""

from __future__ import annotations

import re

import nbformat
from nbconvert import HTMLExporter
from traitlets.config.loader import PyFileConfigLoader

from jaxcourse.grading.out import gradebook

NOTES = ["unknown grade_id '<img src=x onerror=\"alert(1)\">'",
         "x<script>alert(2)</script>.txt: not kept",
         "a name with ``` fences and $x^2$ and **stars**"]


def _page(tmp_path, root, notebook) -> str:
    gradebook.open_course(root, "01_xor", tmp_path)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    page, _ = HTMLExporter(config=config).from_notebook_node(notebook)
    return page[page.index("<main>"):]  # the cells; the page's own head loads scripts of its own


def test_grading_notes_show_literally(tmp_path, root):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(gradebook.notes_cell(NOTES))])
    page = _page(tmp_path, root, notebook)
    assert not re.search(r"<(img|script)\b", page), "a note became markup"
    text = re.sub(r"<[^>]+>", "", page)
    assert "onerror" in text and "alert(2)" in text and "**stars**" in text, "every note is shown whole"


def test_html_in_a_students_markdown_cell_is_not_run(tmp_path, root):
    answer = nbformat.v4.new_markdown_cell('My answer <script>alert(3)</script> <img src=x onerror="alert(4)"> '
                                           '<a href="javascript:alert(5)">see</a> and **bold**')
    page = _page(tmp_path, root, nbformat.v4.new_notebook(cells=[answer]))
    assert "<script>alert(3)" not in page and "javascript:alert" not in page
    assert not re.search(r"<img[^>]*onerror", page)
    assert "<strong>bold</strong>" in page, "Markdown still renders"
