"""From an LMS download (a zip, or its unpacked files) or a folder of `<student>/<files>` to
each student's files, in memory; nothing is extracted by name.

Every file's size is known before it is read (a zip's header, or the file system): a file over
MAX_FILE_BYTES or a student over MAX_STUDENT_BYTES costs that student alone, with a note; a
download whose students' files come to more than MAX_DOWNLOAD_BYTES is refused whole, before
anything is read or graded; and no zip entry is inflated past the size it declared, so that a zip
bomb or a forged header costs no memory.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath

from jaxcourse.grading.intake import gradescope_export

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
# - Gradescope's "Export Submissions": `submission_<id>/01_xor.ipynb` beside `submission_metadata.yml`,
#   which names each folder's submitters (`gradescope_export`).
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
MAX_DOWNLOAD_BYTES = 4 * 2**30  # what one run reads of a download, every student's files together


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


@dataclass(frozen=True)
class _Entry:
    name: str  # relative posix name
    size: int  # as declared: the zip's header, or the file's size on disk
    stamp: datetime | None  # the time stored in a zip; a folder's say when it was unpacked: none
    read: Callable[[int], bytes]  # at most this many bytes; raises what a damaged entry raises


def _read_file(file: Path, limit: int) -> bytes:
    with open(file, "rb") as handle:
        return handle.read(limit)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(info) as handle:  # inflates no more than it returns
        return handle.read(limit)


def _entries(path: Path, stack: ExitStack) -> list[_Entry]:
    """Every file under `path` (a folder or a zip, kept open by `stack`), none of them read yet."""
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    if path.is_dir():
        return [_Entry(f.relative_to(path).as_posix(), f.stat().st_size, None, partial(_read_file, f))
                for f in sorted(p for p in path.rglob("*") if p.is_file())]
    if zipfile.is_zipfile(path):
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except (zipfile.BadZipFile, NotImplementedError, EOFError) as err:
            raise SubmissionError(f"{path}: a damaged zip ({err}): download it again") from None
        found = []
        for info in archive.infolist():
            if not info.is_dir():
                try:
                    stamp = datetime(*info.date_time)
                except ValueError:
                    stamp = None
                found.append(_Entry(info.filename, info.file_size, stamp, partial(_read_member, archive, info)))
        return found
    raise SubmissionError(f"{path}: not a folder of submissions or a zip file")


def _not_read(size: int, used: int) -> str:
    """Why a file of `size` bytes is not read for a student who has `used` bytes already; "" to read it."""
    if size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 2**20} MiB, not read"
    if used + size > MAX_STUDENT_BYTES:
        return f"over {MAX_STUDENT_BYTES // 2**20} MiB for one student in all, not read"
    return ""


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _read(entry: _Entry) -> bytes | str:
    """The entry's bytes, at most its declared size (a forged header gets no further), or why not."""
    try:
        data = entry.read(entry.size + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError) as err:
        return f"damaged in the zip, not read ({type(err).__name__}: {err})"[:200]
    if len(data) > entry.size:
        return f"larger than the {entry.size} bytes it declared (a damaged or forged entry), not read"
    return data


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


def _strip_common_folder(entries: list[_Entry], regexes: list[re.Pattern]) -> list[_Entry]:
    """An LMS zip often wraps everything in one folder: drop it when what is inside is either
    student folders or flat files of at least two different students."""
    while entries:
        parts = [PurePosixPath(e.name).parts for e in entries]
        if len({p[0] for p in parts}) != 1 or any(len(p) < 2 for p in parts):
            break
        inner = [p[1:] for p in parts]
        flat_ids = {m.group("student") for p in inner if len(p) == 1 and (m := _match(regexes, p[0]))}
        if not (all(len(p) >= 2 for p in inner) or len(flat_ids) >= 2 or (gradescope_export.METADATA,) in inner):
            break
        entries = [replace(e, name=str(PurePosixPath(*p))) for p, e in zip(inner, entries)]
    return entries


def safe_id(raw: str) -> str:
    """`raw` as a folder name and gradebook id: letters of any script kept (NFC), anything that is
    not a letter, digit or one of `._@+-` (slashes, spaces, control characters) made `_`, no
    leading dot, dash or tilde. "" when nothing is left."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch if ch.isalnum() or ch in "._@+-" else "_" for ch in text)
    return text.lstrip("._-~")[:100]


def one_line(raw: str) -> str:
    """The name an LMS put in a file name, on one line: control and format characters (a newline
    that would split a row of grades.csv, an escape) become spaces."""
    return " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                            for ch in raw).split())


def distinct_ids(raws: list[str]) -> dict[str, str]:
    """{raw id: safe id}, one safe id each: an id already safe keeps itself; one that must be
    cleaned always gets a short hash of its raw form added, so that it stays the same when a
    student whose id cleans the same way appears in a later run."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for raw in sorted(set(raws), key=lambda r: (safe_id(r) != r, r)):
        student = safe_id(raw)
        digest = hashlib.sha256(raw.encode()).hexdigest()
        if student != raw or not student:
            student = f"{student or 'student'}-{digest[:8]}"
        if student in taken:  # only a raw id made to look like a cleaned one
            student = f"{safe_id(raw) or 'student'}-{digest[:16]}"
        ids[raw] = student
        taken.add(student)
    return ids


def _gradescope_submitters(entries: list[_Entry]) -> dict[str, list]:
    """A Gradescope export's submitters by folder (`gradescope_export`); {} for any other download."""
    metadata = [e for e in entries if e.name == gradescope_export.METADATA]
    if not metadata:
        return {}
    if metadata[0].size > gradescope_export.MAX_METADATA_BYTES:
        raise SubmissionError(f"{gradescope_export.METADATA}: larger than "
                              f"{_size(gradescope_export.MAX_METADATA_BYTES)}, not read")
    data = _read(metadata[0])
    if isinstance(data, str):
        raise SubmissionError(f"{gradescope_export.METADATA}: {data}")
    try:
        return gradescope_export.submitters(data)
    except ValueError as err:
        raise SubmissionError(f"{err}: download the export again") from None


def collect(path: Path, pattern: str | None = None) -> tuple[dict[str, Submission], list[str]]:
    """{student: Submission} from a folder or zip, and the files no student could be found for.
    Without `pattern`, LMS file names (Canvas, Moodle, Blackboard) give the LMS's student id.
    Sizes are checked before anything is read: a file or a student over their cap costs that
    student alone, a download whose students' files come to more than MAX_DOWNLOAD_BYTES is
    refused whole (SubmissionError), and no entry is read past the size it declared."""
    regexes = layouts(pattern)
    with ExitStack() as stack:
        entries = []
        for entry in _entries(Path(path), stack):
            parts = [p for p in PurePosixPath(entry.name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
            if parts and not IGNORED_PARTS & set(parts) and not parts[-1].startswith("._"):
                entries.append(replace(entry, name="/".join(parts)))
        if not Path(path).is_dir():
            entries = _strip_common_folder(entries, regexes)
        exported = _gradescope_submitters(entries)
        entries = [e for e in entries if not exported or e.name != gradescope_export.METADATA]
        found = []
        orphans = []
        for entry in entries:
            parts = PurePosixPath(entry.name).parts
            # a folder is a student's own, or Moodle's `Full Name_123_assignsubmission_file/`
            match = _match(regexes if len(parts) == 1 else regexes[:1] if pattern is None else [], entry.name)
            if match:
                raw, file = match.group("student"), match.group("file") or PurePosixPath(entry.name).name
            elif len(parts) >= 2:
                raw, file = parts[0], "/".join(parts[1:])
            else:
                orphans.append(entry.name)
                continue
            if raw in exported:  # a Gradescope export's folder: once for each of its submitters
                found += [(who.student, file, entry, {"name": who.name, "when": who.submitted_at})
                          for who in exported[raw]]
                continue
            found.append((raw, file, entry, match.groupdict() if match else {}))
        used: dict[str, int] = {}
        skipped = []
        for raw, _, entry, _ in found:
            skipped.append(_not_read(entry.size, used.get(raw, 0)))
            used[raw] = used.get(raw, 0) + (0 if skipped[-1] else entry.size)
        if sum(used.values()) > MAX_DOWNLOAD_BYTES:
            raise SubmissionError(f"{path}: its students' files come to {_size(sum(used.values()))}, over the "
                                  f"{_size(MAX_DOWNLOAD_BYTES)} one run reads: nothing graded, the last run's "
                                  "results are kept; grade it in parts (a folder of some students each time)")
        ids = distinct_ids([raw for raw, *_ in found])
        students: dict[str, Submission] = {}
        for (raw, file, entry, groups), why in zip(found, skipped):
            student = ids[raw]
            submission = students.setdefault(student, Submission(student))
            if student != raw and not any("renamed" in n for n in submission.notes):
                submission.notes.append(f"student id {raw!r} renamed {student!r} (characters unsafe in a path)")
            name = one_line(groups.get("name") or "")
            if name != (groups.get("name") or "").strip() and not submission.name:
                submission.notes.append(f"name {groups['name']!r} had control characters: shown as {name!r}")
            submission.name = submission.name or name
            submission.late_marker |= bool(groups.get("late"))
            submission.file_id = submission.file_id or groups.get("fileid") or ""
            stamp = entry.stamp
            if groups.get("stamp"):
                stamp = datetime.strptime(groups["stamp"], "%Y-%m-%d-%H-%M-%S")
            stamp = groups.get("when") or stamp
            if stamp and (submission.submitted_at is None or stamp > submission.submitted_at):
                submission.submitted_at = stamp
            data = why or _read(entry)
            if isinstance(data, str):
                submission.notes.append(f"{file}: {data}")
            else:
                submission.files[file] = data
    return students, orphans
