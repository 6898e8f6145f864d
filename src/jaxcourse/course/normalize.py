"""`jaxcourse normalize`: chapters and solutions committed without outputs or run metadata."""

from __future__ import annotations

from pathlib import Path

import nbformat

# cell metadata that Jupyter and papermill add when a notebook runs: noise in a diff
_RUN_METADATA = ("execution", "ExecuteTime", "papermill", "collapsed", "scrolled")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def normalize_notebook(notebook) -> None:
    """Clear outputs and execution counts; keep only the kernelspec and the language name."""
    for cell in notebook.cells:
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    language = notebook.metadata.get("language_info", {}).get("name", "python")
    notebook.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": language}}


def unnormalized(root: Path) -> list[Path]:
    """The chapter and solution notebooks that `jaxcourse normalize` would rewrite."""
    found = []
    for path in sorted([*root.glob("chapters/*.ipynb"), *root.glob("solutions/*/*.ipynb")]):
        notebook = nbformat.read(path, as_version=4)
        normalize_notebook(notebook)
        if path.read_text() != nbformat.writes(notebook) + "\n":
            found.append(path)
    return found


def normalize_all(root: Path, write: bool) -> list[Path]:
    """Every chapter and solution notebook that was not normalized; with `write`, normalized now."""
    offenders = unnormalized(root)
    if write:
        for path in offenders:
            notebook = nbformat.read(path, as_version=4)
            normalize_notebook(notebook)
            nbformat.write(notebook, path)
    return offenders
