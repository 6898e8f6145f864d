"""What a grading run sends to a kernel (steps) and what comes back (outcomes): plain data that
crosses from Dask workers to the host as dicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Step:
    """One cell to run: `kind` is locked (course code), answer, extra (a cell the student added),
    or test (`source` is the visible part, `hidden` the hidden tests, run right after)."""

    kind: str
    cell: str
    source: str
    hidden: str = ""


def course_cells(steps: list[Step]) -> list[str]:
    """The sources of a plan's locked cells: what a test kernel runs before any test."""
    return [s.source for s in steps if s.kind == "locked"]


@dataclass
class Outcome:
    status: str  # ok, error, timeout (interrupted), killed (ignored the interrupt), died, skipped
    outputs: list = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    summary: str = ""  # a failed test part in one line a student may see, hidden or not (`remote.failure_summary`)
    answers: list = field(default_factory=list)  # of a test part: what the student's code answered (`behaviour`)
    check: list | None = None  # of a failed visible part: [check, kind, count, numbers] (`checks.CheckFailed.seen`)


@dataclass
class StepResult:
    cell: str
    kind: str
    visible: Outcome
    hidden: Outcome | None = None
    changes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.visible.status == "ok" and (self.hidden is None or self.hidden.status == "ok")


@dataclass
class Run:
    results: list
    notes: list
    seconds: float
    isolation: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Run:
        results = []
        for r in data["results"]:
            hidden = Outcome(**r["hidden"]) if r["hidden"] else None
            results.append(StepResult(r["cell"], r["kind"], Outcome(**r["visible"]), hidden, r["changes"]))
        return cls(results, data["notes"], data["seconds"], data["isolation"])
