"""Execute notebooks with papermill and prove that every cell really ran."""

from __future__ import annotations

import json
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
    backend: str = "?"
    device_count: int = 0


PROBE_TAG = "jaxcourse-runtime-probe"
_PROBE_MARK = "JAXCOURSE_RUNTIME "
_PROBE_SOURCE = (
    "import json as _json, jax as _jax\n"
    f"print({_PROBE_MARK!r} + _json.dumps({{'backend': _jax.default_backend(), "
    "'devices': _jax.device_count()}))"
)


def _with_probe(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook plus a last cell that reports the backend and device count it ran on."""
    probe = nbformat.v4.new_code_cell(_PROBE_SOURCE, metadata={"tags": [PROBE_TAG]})
    probe.id = "jaxcourse-runtime-probe"
    notebook.cells.append(probe)
    return notebook


def _take_probe(notebook: nbformat.NotebookNode) -> dict:
    """Remove the probe cell from an executed notebook and return what it reported."""
    found = {}
    kept = []
    for cell in notebook.cells:
        if PROBE_TAG not in cell.metadata.get("tags", []):
            kept.append(cell)
            continue
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(_PROBE_MARK):
                    found = json.loads(line[len(_PROBE_MARK):])
    notebook.cells = kept
    return found


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0][:80] if lines else "<empty cell>"


RAISES_TAG = "raises-exception"


def problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What is wrong with an executed notebook, first problem first.

    A code cell that raised; a cell tagged `raises-exception` (JupyterLab and nbconvert go on past
    it, but papermill, Colab, VS Code and Positron stop there: show a deliberate error with
    `jaxcourse.errors.shows_error` instead); and code cells that never ran: papermill exits 0
    when a notebook calls sys.exit() and skips the rest.
    """
    found = []
    skipped = []
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        where = f"cell {i} ('{_first_line(cell.source)}')"
        if RAISES_TAG in cell.metadata.get("tags", []):
            found.append(f"{where} is tagged {RAISES_TAG}, which stops Run All in most front ends: "
                         "show the error with `with jaxcourse.errors.shows_error(...)` instead")
        if errors:
            found.append(f"{where} raised {errors[0].ename}: {errors[0].evalue}")
        if cell.get("execution_count") is None:
            skipped.append(i)
    if skipped and not found:
        first = notebook.cells[skipped[0]]
        found.append(f"{len(skipped)} code cells never ran, the first is cell {skipped[0]} "
                     f"('{_first_line(first.source)}'); did the notebook exit early?")
    return found


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
    probed = output_dir / f".probed-{source.name}"
    nbformat.write(_with_probe(nbformat.read(source, as_version=4)), probed)
    start = time.perf_counter()
    # plain papermill, as CI and students run it: any error that escapes a cell fails the run
    # (deliberate errors are caught by shows_error inside their cell); problems() names the cell
    failed = None
    try:
        papermill.execute_notebook(
            str(probed),
            str(output),
            parameters=QUICK_PARAMETERS if quick else {},
            cwd=str(source.parent),
            kernel_name=kernel,
            execution_timeout=timeout,
            progress_bar=False,
        )
    except PapermillExecutionError as err:
        failed = f"papermill: {err.ename}: {err.evalue} (cell {err.exec_count})"
    finally:
        probed.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    executed = nbformat.read(output, as_version=4)
    found = problems(executed) or ([failed] if failed else [])
    runtime = _take_probe(executed)
    nbformat.write(executed, output)
    if found:
        raise NotebookFailure(f"{source.name}: " + "; ".join(found))
    return NotebookRun(source=source, output=output, seconds=seconds,
                       backend=runtime.get("backend", "?"), device_count=runtime.get("devices", 0))


def notebook_paths(root: Path, given: list[str]) -> list[Path]:
    """The notebooks named in `given` (files, or folders searched), or every chapter."""
    if not given:
        return sorted((root / "chapters").glob("*.ipynb"))
    paths = []
    for item in given:
        path = Path(item)
        found = sorted(path.rglob("*.ipynb")) if path.is_dir() else [path]
        paths += [p for p in found if ".ipynb_checkpoints" not in p.parts]
    return paths


def write_report(path: Path, rows: list[tuple], *, quick: bool) -> None:
    from jaxcourse import runtime

    versions = ", ".join(f"{k} {v}" for k, v in runtime.versions().items() if v)
    lines = [
        f"Mode: {'quick' if quick else 'full'}; {versions}.",
        "",
        "| notebook | backend | devices | result | wall time (s) |",
        "|---|---|---|---|---|",
        *(f"| {name} | {backend} | {devices} | {result} | {seconds:.1f} |"
          for name, backend, devices, result, seconds in rows),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def run_many(root: Path, given: list[str], output: Path, *, quick: bool, timeout: int) -> list[tuple]:
    """Execute the notebooks named (or every chapter), each into `output`, printing a line each:
    report rows (notebook, backend, devices, "pass" or "fail", seconds)."""
    import sys

    from jaxcourse import timing
    from jaxcourse.course.assignments import CourseError

    paths = notebook_paths(root, given)
    if not paths:
        raise CourseError(f"no notebooks to run (none given, and no chapters/ under {root})")
    rows = []
    for path in paths:
        start = time.perf_counter()
        # chapters/01_xor.ipynb and solutions/01_xor/01_xor.ipynb must not overwrite each other
        where = path.parent.name if path.is_absolute() else path.parent
        shown = path.name if path.is_absolute() else path.as_posix()
        try:
            run = execute(path, output / where, quick=quick, timeout=timeout)
        except (NotebookFailure, FileNotFoundError) as err:
            print(f"FAIL {err}", file=sys.stderr)
            rows.append((shown, "?", "?", "fail", time.perf_counter() - start))
        else:
            print(f"ok   {path} in {timing.format_seconds(run.seconds)} on {run.backend} "
                  f"x{run.device_count} -> {run.output}")
            rows.append((shown, run.backend, str(run.device_count), "pass", run.seconds))
    return rows
