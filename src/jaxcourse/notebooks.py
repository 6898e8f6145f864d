"""Execute notebooks with papermill and prove that every cell really ran."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

QUICK_PARAMETERS = {"QUICK": True}


class NotebookFailure(RuntimeError):
    """A notebook that raised, or that stopped before its last cell."""


@dataclass(frozen=True)
class NotebookRun:
    source: Path
    output: Path
    seconds: float


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0][:80] if lines else "<empty cell>"


def unexecuted_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """Indices of code cells that have source but no execution count.

    papermill exits 0 when a notebook calls sys.exit() and skips the remaining cells;
    this is how such a run is caught.
    """
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None
    ]


def execute(
    source: Path,
    output_dir: Path,
    *,
    quick: bool = False,
    timeout: int = 600,
    kernel: str = "python3",
) -> NotebookRun:
    """Run `source` top to bottom into `output_dir`; raise NotebookFailure naming the cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = Path(source).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"no notebook at {source}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / source.name
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=QUICK_PARAMETERS if quick else {},
            cwd=str(source.parent),
            kernel_name=kernel,
            execution_timeout=timeout,
            progress_bar=False,
        )
    except PapermillExecutionError as err:
        raise NotebookFailure(
            f"{source.name}: cell {err.cell_index} (execution {err.exec_count}, "
            f"'{_first_line(err.source)}') raised {err.ename}: {err.evalue}"
        ) from None
    seconds = time.perf_counter() - start
    executed = nbformat.read(output, as_version=4)
    skipped = unexecuted_cells(executed)
    if skipped:
        first = executed.cells[skipped[0]]
        raise NotebookFailure(
            f"{source.name}: {len(skipped)} code cells never ran, the first is cell {skipped[0]} "
            f"('{_first_line(first.source)}'); did the notebook exit early?"
        )
    return NotebookRun(source=source, output=output, seconds=seconds)
