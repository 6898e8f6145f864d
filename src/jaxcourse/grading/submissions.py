"""From a pile of student files to the cells the grader will run.

`collect` reads a folder of `<student>/<files>` or an LMS download (a zip, or its unpacked
files, whose names start with the student id) into memory; nothing is extracted by name.
`read_notebook` says what is wrong with a file that is not a notebook. `plan` rebuilds each
student's notebook from the trusted source: the student's answers go into the source's answer
cells and cells the student added are kept, but every locked and test cell is the course's own,
whatever the student did to it; what they did is noted for the summary.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

import nbformat

from jaxcourse.grading.steps import Step

# The layouts LMS downloads use, tried in order when no --pattern is given. The student id is
# the LMS's own id, so that two students with the same name stay apart; `name` is kept beside it.
# - Canvas: `doejane_1234_5678_01_xor.ipynb`, `doejane_LATE_1234_5678_01_xor.ipynb` for late work:
#   user id, then attachment id. canvas-lms `Assignment#infer_comment_context_from_filename`
#   (app/models/assignment.rb, which reads these names back on "Re-upload submissions") takes the
#   first two all-digit `_` parts as user id and attachment id; the `LATE` marker's spelling is
#   taken from Canvas downloads, not from canvas-lms source (also accepted: `late`).
# - Moodle: `Full Name_123_assignsubmission_file_01_xor.ipynb` (flat), or a folder
#   `Full Name_123_assignsubmission_file[_]/01_xor.ipynb` (3.1+): participant id second, as
#   moodle/mod/assign `download_submissions` writes (`str_replace('_', ' ', fullname)` then
#   `_<uniqueid>_<subtype>_<type>`) and assignfeedback_file's importziplib reads it back.
# - Blackboard: `Assignment_username_attempt_2024-01-31-23-59-59_01_xor.ipynb`; the attempt's
#   time is in the name (not checked against Blackboard source: none is public).
LMS_LAYOUTS = {
    "moodle": r"^(?P<name>[^_/\\]+)_(?P<student>\d+)_assignsubmission_[a-z]+(?:_/|/|_)(?P<file>.+)$",
    "canvas": r"^(?P<name>[^_/\\]+?)(?:_(?P<late>LATE|late))?_(?P<student>\d+)_(?P<fileid>\d+)_(?P<file>[^/\\]+)$",
    "blackboard": r"^[^/\\]+?_(?P<student>[^_/\\]+)_attempt_(?P<stamp>\d{4}(?:-\d\d){5})(?:_(?P<file>[^/\\]+))?(?:\.txt)?$",
}
# --pattern's fallback, and for names no LMS layout matches: `<student>_<file>`
DEFAULT_PATTERN = r"^(?P<student>[^_/\\]+)_(?P<file>.+)$"
IGNORED_PARTS = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "__pycache__"}
MAX_FILE_BYTES = 50 * 2**20
MAX_STUDENT_BYTES = 100 * 2**20
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "### HIDDEN TESTS (run by the grader, not shown)"


class SubmissionError(ValueError):
    pass


@dataclass
class Submission:
    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    name: str = ""  # the display name the LMS put in the file name
    late_marker: bool = False  # the LMS itself said late (Canvas)
    submitted_at: datetime | None = None  # from the file name (Blackboard) or the zip's file times
    file_id: str = ""  # Canvas's attachment id, needed to send feedback back

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()


def _entries(path: Path) -> list[tuple[str, bytes | str, datetime | None]]:
    """(relative posix name, content or why it was not read, time stored in a zip) for every file
    under `path`; a folder's file times say when it was unpacked, not submitted, so none."""
    found: list[tuple[str, bytes | str, datetime | None]] = []
    too_big = f"larger than {MAX_FILE_BYTES // 2**20} MiB, not read"
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            size = file.stat().st_size
            found.append((file.relative_to(path).as_posix(),
                          file.read_bytes() if size <= MAX_FILE_BYTES else too_big, None))
        return found
    if zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, NotImplementedError, EOFError) as err:
            raise SubmissionError(f"{path}: a damaged zip ({err}): download it again") from None
        with archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                try:
                    stamp = datetime(*info.date_time)
                except ValueError:
                    stamp = None
                if info.file_size > MAX_FILE_BYTES:
                    found.append((info.filename, too_big, stamp))
                    continue
                try:
                    found.append((info.filename, archive.read(info), stamp))
                except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as err:
                    found.append((info.filename, f"damaged in the zip, not read ({type(err).__name__}: {err})"[:200],
                                  stamp))
        return found
    raise SubmissionError(f"{path}: not a folder of submissions or a zip file")


def layouts(pattern: str | None = None) -> list[re.Pattern]:
    """The regexes tried on each flat file name: `pattern`, or the LMS layouts then the default."""
    if pattern is None:
        return [re.compile(p) for p in (*LMS_LAYOUTS.values(), DEFAULT_PATTERN)]
    try:
        regex = re.compile(pattern)
    except re.error as err:
        raise SubmissionError(f"--pattern {pattern!r} is not a valid regex: {err}") from None
    missing = [g for g in ("student", "file") if g not in regex.groupindex]
    if missing:
        raise SubmissionError(f"--pattern {pattern!r} has no (?P<{missing[0]}>...) group; it needs "
                              "(?P<student>...) and (?P<file>...)")
    return [regex]


def _match(regexes: list[re.Pattern], name: str) -> re.Match | None:
    return next((m for r in regexes if (m := r.match(name)) and m.group("student")), None)


def _strip_common_folder(entries: list[tuple], regexes: list[re.Pattern]) -> list[tuple]:
    """An LMS zip often wraps everything in one folder: drop it when what is inside is either
    student folders or flat files of at least two different students."""
    while entries:
        parts = [PurePosixPath(e[0]).parts for e in entries]
        if len({p[0] for p in parts}) != 1 or any(len(p) < 2 for p in parts):
            break
        inner = [p[1:] for p in parts]
        flat_ids = {m.group("student") for p in inner if len(p) == 1 and (m := _match(regexes, p[0]))}
        if not (all(len(p) >= 2 for p in inner) or len(flat_ids) >= 2):
            break
        entries = [(str(PurePosixPath(*p)), *rest) for p, (_, *rest) in zip(inner, entries)]
    return entries


def safe_id(raw: str) -> str:
    """`raw` as a folder name and gradebook id: letters of any script kept (NFC), anything that is
    not a letter, digit or one of `._@+-` (slashes, spaces, control characters) made `_`, no
    leading dot, dash or tilde. "" when nothing is left."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch if ch.isalnum() or ch in "._@+-" else "_" for ch in text)
    return text.lstrip("._-~")[:100]


def distinct_ids(raws: list[str]) -> dict[str, str]:
    """{raw id: safe id}, one safe id each: an id already safe keeps itself; one that cleans into
    an id already taken gets a short hash of its raw form added."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for raw in sorted(set(raws), key=lambda r: (safe_id(r) != r, r)):
        student = safe_id(raw)
        if not student or student in taken:
            student = f"{student or 'student'}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
        ids[raw] = student
        taken.add(student)
    return ids


def collect(path: Path, pattern: str | None = None) -> tuple[dict[str, Submission], list[str]]:
    """{student: Submission} from a folder or zip, and the files no student could be found for.
    Without `pattern`, LMS file names (Canvas, Moodle, Blackboard) give the LMS's student id."""
    regexes = layouts(pattern)
    entries = []
    for name, data, stamp in _entries(Path(path)):
        parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
        if parts and not IGNORED_PARTS & set(parts) and not parts[-1].startswith("._"):
            entries.append(("/".join(parts), data, stamp))
    if not Path(path).is_dir():
        entries = _strip_common_folder(entries, regexes)
    found = []
    orphans = []
    for name, data, stamp in entries:
        parts = PurePosixPath(name).parts
        # a folder is a student's own, or Moodle's `Full Name_123_assignsubmission_file/`
        match = _match(regexes if len(parts) == 1 else regexes[:1] if pattern is None else [], name)
        if match:
            raw, file = match.group("student"), match.group("file") or PurePosixPath(name).name
        elif len(parts) >= 2:
            raw, file = parts[0], "/".join(parts[1:])
        else:
            orphans.append(name)
            continue
        found.append((raw, file, data, stamp, match.groupdict() if match else {}))
    ids = distinct_ids([raw for raw, *_ in found])
    students: dict[str, Submission] = {}
    for raw, file, data, stamp, groups in found:
        student = ids[raw]
        submission = students.setdefault(student, Submission(student))
        if student != raw and not any("renamed" in n for n in submission.notes):
            why = "characters unsafe in a path" if student == safe_id(raw) else "another student's id is the same once cleaned"
            submission.notes.append(f"student id {raw!r} renamed {student!r} ({why})")
        submission.name = submission.name or (groups.get("name") or "").strip()
        submission.late_marker |= bool(groups.get("late"))
        submission.file_id = submission.file_id or groups.get("fileid") or ""
        if groups.get("stamp"):
            stamp = datetime.strptime(groups["stamp"], "%Y-%m-%d-%H-%M-%S")
        if stamp and (submission.submitted_at is None or stamp > submission.submitted_at):
            submission.submitted_at = stamp
        if isinstance(data, str):
            submission.notes.append(f"{file}: {data}")
            continue
        if sum(map(len, submission.files.values())) + len(data) > MAX_STUDENT_BYTES:
            submission.notes.append(f"{file}: over {MAX_STUDENT_BYTES // 2**20} MiB for one student in all, not read")
            continue
        submission.files[file] = data
    return students, orphans


def read_notebook(data: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook in `data`, or None and what is wrong with it."""
    if not data.strip():
        return None, "the file is empty"
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"not a notebook: not JSON ({err.__class__.__name__}: {str(err)[:80]})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, "not a notebook: JSON without a list of cells"
    for cell in raw["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), str | list):
            return None, "not a notebook: a cell has no valid source"
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as err:  # nbformat raises several kinds for malformed notebooks
        return None, f"not a notebook nbformat can read ({err.__class__.__name__}: {str(err)[:80]})"
    for cell in notebook.cells:
        if not isinstance(cell.get("source", ""), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None, "not a notebook: a cell has no valid type or source"
    return notebook, ""


def pick_notebooks(submission: Submission, expected: list[str]) -> tuple[dict[str, tuple[str, bytes]], list[str]]:
    """Which submitted file stands for each expected notebook; notes say how it was found."""
    notes = []
    notebooks = {name: data for name, data in submission.files.items() if name.endswith(".ipynb")}
    by_base = {PurePosixPath(n).name: n for n in notebooks}
    found: dict[str, tuple[str, bytes]] = {}
    for want in expected:
        if want in by_base:
            found[want] = (by_base[want], notebooks[by_base[want]])
            continue
        ending = [n for n in notebooks if PurePosixPath(n).name.endswith(want)]
        if len(ending) == 1:
            found[want] = (ending[0], notebooks[ending[0]])
    unused = [n for n in notebooks if n not in {f for f, _ in found.values()}]
    missing = [w for w in expected if w not in found]
    if len(missing) == 1 and len(unused) == 1:
        found[missing[0]] = (unused[0], notebooks[unused[0]])
        notes.append(f"{unused[0]} graded as {missing[0]} (renamed)")
        unused = []
    used = {f for f, _ in found.values()}
    extras = sorted(n for n in submission.files if n not in used)
    if extras:
        shown = ", ".join(extras[:8]) + (f" and {len(extras) - 8} more" if len(extras) > 8 else "")
        notes.append(f"not used by the grader (only the notebook is graded): {shown}")
    return found, notes


# --- rebuilding the notebook from the trusted source -------------------------------------------


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def split_hidden(source: str) -> tuple[str, str]:
    """(visible part, hidden tests) of a test cell."""
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            inside = True
        elif line.strip() == END_HIDDEN:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return "\n".join(visible).rstrip(), "\n".join(hidden).strip("\n")


def _released_text(cell) -> str:
    """What the student was given for a locked cell: the source without its hidden tests."""
    return split_hidden(cell.source)[0] if _meta(cell).get("grade") else cell.source


def _text_key(cell) -> str:
    return f"{cell.get('cell_type')}:{hashlib.sha1(cell.get('source', '').strip().encode()).hexdigest()}"


@dataclass
class Plan:
    """The notebook the grader runs and then shows back: source cells, the student's answers."""

    cells: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    step_of_cell: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _align(source_cells: list, student_cells: list) -> tuple[dict[int, int], list[int], list[str]]:
    """Source index -> student index, the student cells to run as their own, and notes."""
    ids = {_meta(c).get("grade_id") for c in source_cells} - {None}
    notes = []

    def source_key(cell):
        return _meta(cell).get("grade_id") or _text_key(cell)

    # A cell whose metadata was stripped is still recognised by the text the student was given.
    by_text = {_text_key(nbformat.from_dict({**c, "source": _released_text(c)})): source_key(c)
               for c in source_cells if not _meta(c).get("solution")}
    seen: set[str] = set()
    student_keys = []
    for cell in student_cells:
        gid = _meta(cell).get("grade_id")
        key = gid if gid in ids else by_text.get(_text_key(cell), _text_key(cell))
        if key in seen and key in ids:
            notes.append(f"cell {key} appears more than once: only the first copy is used")
            key = f"duplicate:{len(student_keys)}"
        seen.add(key)
        student_keys.append(key)
    matcher = difflib.SequenceMatcher(None, [source_key(c) for c in source_cells], student_keys, autojunk=False)
    pairs: dict[int, int] = {}
    extras: list[int] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs.update(zip(range(i1, i2), range(j1, j2)))
            continue
        answers = [i for i in range(i1, i2) if _meta(source_cells[i]).get("solution")]
        candidates = [j for j in range(j1, j2) if not _meta(student_cells[j]).get("grade")
                      and not _meta(student_cells[j]).get("locked")
                      and student_cells[j].cell_type == "code"]
        others = [j for j in range(j1, j2) if j not in candidates]
        if answers and candidates:
            if not all(_meta(student_cells[j]).get("grade_id") for j in candidates):
                notes.append("some cells had no nbgrader metadata: answers were matched by position")
            if len(answers) == 1:
                pairs[answers[0]] = candidates[0]
                extras += candidates[1:]
            else:
                pairs.update(zip(answers, candidates))
                extras += candidates[len(answers):]
        else:
            extras += candidates
        for j in others:
            gid = _meta(student_cells[j]).get("grade_id")
            if gid and gid not in ids and student_cells[j].cell_type == "code":
                notes.append(f"a locked or test cell with an unknown grade_id {gid!r} was ignored")
    return pairs, sorted(extras), list(dict.fromkeys(notes))


def plan(source: nbformat.NotebookNode, student: nbformat.NotebookNode | None) -> Plan:
    """Rebuild the student's notebook on top of the source; `student` None means no answers."""
    result = Plan()
    source_cells = source.cells
    student_cells = student.cells if student is not None else []
    pairs, extras, notes = _align(source_cells, student_cells)
    result.notes += notes
    extras_after: dict[int, list[int]] = {}
    for j in extras:
        before = [i for i, sj in pairs.items() if sj < j]
        extras_after.setdefault(max(before) if before else -1, []).append(j)

    def add_extra(j: int) -> None:
        cell = nbformat.v4.new_code_cell(student_cells[j].source)
        result.cells.append(cell)
        result.step_of_cell.append(len(result.steps))
        result.steps.append(Step("extra", f"extra-{j}", cell.source))

    for j in extras_after.get(-1, []):
        add_extra(j)
    for i, original in enumerate(source_cells):
        meta = _meta(original)
        gid = meta.get("grade_id") or f"cell-{i}"
        cell = nbformat.from_dict(json.loads(json.dumps(original)))
        if original.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        theirs = student_cells[pairs[i]] if i in pairs else None
        step = None
        if meta.get("solution"):
            answer = theirs.source if theirs is not None else ""
            if theirs is None and student is not None:
                result.notes.append(f"answer cell {gid} not found: graded as empty")
            cell.source = answer
            result.answers[gid] = answer
            if original.cell_type == "code":
                step = Step("answer", gid, answer)
        elif original.cell_type == "code":
            given = _released_text(original)
            if student is not None:
                if theirs is None:
                    result.notes.append(f"locked cell {gid} was deleted: the original was run")
                elif theirs.cell_type != "code":
                    result.notes.append(f"locked cell {gid} was changed to {theirs.cell_type}: the original was run")
                elif theirs.source.strip() != given.strip():
                    result.notes.append(f"locked cell {gid} was edited: the original was run")
            if meta.get("grade"):
                visible, hidden = split_hidden(original.source)
                cell.source = visible + (f"\n\n{HIDDEN_NOTE}" if hidden else "")
                step = Step("test", gid, visible, hidden)
            else:
                step = Step("locked", gid, original.source)
        result.cells.append(cell)
        result.step_of_cell.append(len(result.steps) if step else None)
        if step:
            result.steps.append(step)
        for j in extras_after.get(i, []):
            add_extra(j)
    if extras:
        result.notes.append(f"{len(extras)} cell(s) you added were run as your own code")
    return result


def write_class(folder: Path, students: dict[str, dict[str, nbformat.NotebookNode]]) -> Path:
    """Write {student: {file: notebook}} as a submissions folder that `grade` reads."""
    for student, notebooks in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        for filename, notebook in notebooks.items():
            nbformat.write(notebook, folder / student / filename)
    return folder
