"""Formulas in feedback pages drawn without a network (`grading/out/offline_math.py`)."""

from jaxcourse.grading.out import offline_math

CELL = '<div class="text_cell_render border-box-sizing rendered_html">{}</div>'


def test_formulas_of_markdown_cells_become_mathml_and_code_stays_as_it_is():
    page = offline_math.render(CELL.format(r"<p>From $h = x$, $$g_i = \frac{f(x)}{2h}$$ costs \$5.</p>"
                                           r"<code>$x$</code>") + "<pre>$y$</pre>")
    assert page.count("<math") == 2 and '<math display="block"' in page and "<mfrac>" in page
    assert "$h = x$" not in page and r"\frac" not in page
    assert r"costs \$5." in page and "<code>$x$</code>" in page and "<pre>$y$</pre>" in page


def test_markup_hidden_in_a_formula_stays_text():
    """latex2mathml copies \\text{...} as it is: a student's Markdown must not become a script."""
    for latex in (r"\text{&lt;script&gt;alert(1)&lt;/script&gt;}", r"\text{&lt;img src=x onerror=alert(1)&gt;}",
                  r"\text{a&lt;b}"):
        page = offline_math.render(CELL.format(f"<p>${latex}$</p>"))
        assert "<script" not in page and "<img" not in page and "<b" not in page.replace("<body", "")
        assert latex in page  # left as the escaped text it was
