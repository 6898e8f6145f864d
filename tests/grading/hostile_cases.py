"""Hostile and broken submissions of 01_xor, each with the score it must get and why.

Every case is built from the real solution at test time (so it never drifts from the
assignment): a file that is not a notebook, a notebook whose locked cells were tampered with, or
the solution with one task's cell replaced by hostile code. Points of 01_xor's tasks: 01 forward 2,
02 loss 2, 03 momentum 2, 04 pascal 2, 05 hamming matrix 1, 06 ensemble 3 (12 in all).

Where the grader has no namespaces (`make test` as a user who is not root: GitHub's workflow),
kernels run as that user, with no cgroups either: `Case.unconfined` is what a case gets there,
where the attack is not stopped, and the fixture asserts that it was not (README, 'Isolation').
A case that would damage the machine or the repository there (writes, the hostname) aims at a
file the test made instead (`Context.host_file`), or changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from jaxcourse.course import assignments

ASSIGNMENT = "01_xor"
NOTEBOOK = "01_xor.ipynb"
FULL = 12.0
POINTS = {"task-01-forward": 2, "task-02-loss": 2, "task-03-momentum": 2, "task-04-pascal": 2,
          "task-05-hamming-matrix": 1, "task-06-ensemble": 3}


# Marks the sandbox cases leave on the host if they get out: a SysV segment, a process.
HOST_SEGMENT_KEY = 0x4A43_0001  # made by the test on the host before grading
STUDENT_SEGMENT_KEY = 0x4A43_0002  # made by a student; must not outlive the grading
ESCAPED_MARK = "jaxcourse-escaped-4242"
HOSTNAME = "jaxcourse-pwned"  # what a student tries to call the host


@dataclass
class Context:
    root: Path
    course: Path
    submissions: Path
    port: int
    canary: Path = Path("/nonexistent")
    isolation: str = "namespaces"  # or "process": what the grader will use (`Report.isolation`)
    host_file: Path = Path("/nonexistent")  # a file of the host's a student must not be able to write

    def solved(self) -> nbformat.NotebookNode:
        source = self.root / "solutions" / ASSIGNMENT / NOTEBOOK
        return assignments.solved(source, self.root / "exercises" / ASSIGNMENT / NOTEBOOK)

    def released(self) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)

    def answer(self, task: str) -> str:
        return assignments.solution_code(_cell(self.root_source(), task).source)

    def root_source(self) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)

    def mistake(self, task: str) -> str:
        return next(m.code for m in assignments.mistakes(self.root, ASSIGNMENT) if m.task == task)

    def with_answer(self, task: str, code: str, notebook=None) -> nbformat.NotebookNode:
        return assignments.with_answer(notebook or self.solved(), task, code)


@dataclass(frozen=True)
class Case:
    name: str
    expected: float
    reason: str  # a phrase that must appear in the student's notes (summary and feedback); "" for none
    build: Callable[[Context], dict[str, bytes]]
    unconfined: tuple[float, str] | None = None  # (expected, reason) without namespaces; None: the same

    def expected_in(self, isolation: str) -> tuple[float, str]:
        if isolation != "namespaces" and self.unconfined is not None:
            return self.unconfined
        return self.expected, self.reason


def _cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _file(notebook, name: str = NOTEBOOK) -> dict[str, bytes]:
    return {name: nbformat.writes(notebook).encode()}


def _wrong(ctx: Context, task: str) -> nbformat.NotebookNode:
    return ctx.with_answer(task, ctx.mistake(task))


def _edit(ctx: Context, task: str, test: str, change: Callable) -> dict[str, bytes]:
    notebook = _wrong(ctx, task)
    change(notebook, _cell(notebook, test))
    return _file(notebook)


def _delete(notebook, cell) -> None:
    notebook.cells.remove(cell)


def _to_pass(notebook, cell) -> None:
    cell.source = "pass"


def _to_markdown(notebook, cell) -> None:
    index = notebook.cells.index(cell)
    notebook.cells[index] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)


def _duplicate(notebook, cell) -> None:
    notebook.cells.insert(notebook.cells.index(cell), nbformat.from_dict(json.loads(json.dumps(cell))))


def _rename_id(notebook, cell) -> None:
    cell.metadata["nbgrader"]["grade_id"] = "test-02-mine"
    cell.source = "pass"


MARKUP_ID = '<img src=x onerror="window.jaxcoursePwned = 4">'


def _markup_in_notes(notebook, cell) -> None:
    """A grade id the grader's notes will quote, and Markdown the feedback page renders: both markup."""
    cell.metadata["nbgrader"]["grade_id"] = MARKUP_ID
    cell.source = "pass"
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell("<script>window.jaxcoursePwned = 5</script> my notes"))


def _strip_metadata(ctx: Context) -> dict[str, bytes]:
    notebook = ctx.solved()
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    return _file(notebook)


def _other_kernel(ctx: Context) -> dict[str, bytes]:
    notebook = ctx.solved()
    notebook.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return _file(notebook)


def _prefixed(task: str, prefix: str, *, wrong: bool = False) -> Callable[[Context], dict[str, bytes]]:
    """The solution, with `prefix` run first in `task`'s cell (before a right or wrong answer)."""

    def build(ctx: Context) -> dict[str, bytes]:
        answer = ctx.mistake(task) if wrong else ctx.answer(task)
        return _file(ctx.with_answer(task, prefix.format(ctx=ctx) + "\n" + answer))

    return build


def _helper_copy(ctx: Context) -> dict[str, bytes]:
    lenient = "def expect_close(*a, **k):\n    pass\n\nexpect_equal = expect_shape = expect_true = expect_close\n"
    return {**_file(_wrong(ctx, "task-01-forward")), "jaxcourse/checks.py": lenient.encode(),
            "jaxcourse/__init__.py": b"", "checks.py": lenient.encode(), "notes.txt": b"my notes"}


def _read_secrets(ctx: Context) -> str:
    paths = [ctx.root / "solutions" / ASSIGNMENT / NOTEBOOK, ctx.course / "source" / ASSIGNMENT / NOTEBOOK,
             ctx.course / "gradebook.db", ctx.submissions / "solution" / NOTEBOOK,
             ctx.course / "submitted" / "solution" / ASSIGNMENT / NOTEBOOK,
             Path("../../../gradebook.db")]
    return f"""import os
_leaked = []
for _path in {[str(p) for p in paths]!r}:
    try:
        with open(_path, "rb") as _handle:
            _leaked.append((_path, len(_handle.read())))
    except OSError:
        pass
for _top in ("/work", "/tmp", "/root", "/home", "/var/tmp", "/dev/shm") if not _leaked else ():
    for _dir, _subdirs, _files in os.walk(_top):
        _subdirs[:] = [_d for _d in _subdirs if _d not in ("site-packages", ".venv", ".pyenv")]
        _leaked += [(_dir, _f) for _f in _files if _f in ("01_xor.ipynb", "gradebook.db", "grades.csv")]
print("leaked:", _leaked[:5])
if _leaked:
{{answer}}"""


def _read_build(ctx: Context) -> dict[str, bytes]:
    answer = "\n".join("    " + line for line in ctx.answer("task-01-forward").splitlines())
    code = _read_secrets(ctx).replace("{answer}", answer)
    code += "\nelse:\n" + "\n".join("    " + line for line in ctx.mistake("task-01-forward").splitlines()
                                    if not line.startswith("#"))
    return _file(ctx.with_answer("task-01-forward", code))


def _write_build(ctx: Context) -> dict[str, bytes]:
    targets = [ctx.course / "gradebook.db", ctx.root / "solutions" / ASSIGNMENT / NOTEBOOK,
               ctx.root / "exercises" / ASSIGNMENT / NOTEBOOK, Path("../../../gradebook.db"),
               Path("../gradebook.db"), ctx.course / "grades.csv", ctx.host_file]
    if ctx.isolation != "namespaces":  # it would succeed: the repository and the run stay whole
        targets = [ctx.host_file]
    code = (f"for _path in {[str(t) for t in targets]!r}:\n"
            "    try:\n        open(_path, 'w').write('owned')\n    except OSError:\n        pass\n")
    return _file(ctx.with_answer("task-01-forward", code + ctx.answer("task-01-forward")))


def _network_build(ctx: Context) -> dict[str, bytes]:
    answer = "\n".join("    " + line for line in ctx.answer("task-01-forward").splitlines())
    wrong = "\n".join("    " + line for line in ctx.mistake("task-01-forward").splitlines()
                      if not line.startswith("#"))
    code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {ctx.port}), timeout=3).sendall(b'hi')\n"
            f"    _online = True\nexcept OSError as _err:\n    print('offline:', _err)\n    _online = False\n"
            f"if _online:\n{answer}\nelse:\n{wrong}\n")
    return _file(ctx.with_answer("task-01-forward", code))


# 2 GiB, more than the hostile run's 1.5 GiB cap; bounded, so that where nothing caps memory
# (no root: no cgroups) it takes 2 GiB and no more
MEMORY_BLOWUP = """import numpy as _np
_hog = []
for _i in range(16):
    _hog.append(_np.ones(2**24))  # 128 MiB each, written so that it is really resident
"""
SLOW_COMPILE = '''@partial(jax.jit, static_argnames="n")
def pascal(n):
    P = jnp.zeros((n, n)).at[:, 0].set(1.0)
    for i in range(1, n):
        P = P.at[i, 1:i + 1].set(P[i - 1, :i] + P[i - 1, 1:i + 1])
    noise = jnp.zeros(n)
    for k in range(1000):  # correct, but a thousand traced ops per size: slow to trace and compile
        noise = noise + jnp.sin(noise * k)
    return P + 0.0 * noise[None, :]
'''
NOT_JITTABLE = '''import numpy as _np

def hamming_matrix(A, B):
    A, B = _np.asarray(A), _np.asarray(B)
    rows = [[int((a != b).sum()) for b in B] for a in A]
    return jnp.asarray(_np.array(rows, dtype=_np.int32).reshape(len(A), len(B)))
'''
EQ_ALWAYS_TRUE = """class _Always:
    shape = ()

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

def bce_with_logits(z, y):
    return _Always()
"""

def _right_or_wrong(ctx: Context, task: str, condition: str, setup: str = "") -> nbformat.NotebookNode:
    """`task` answered wrongly when `condition` (student code) holds, rightly otherwise."""
    right = "\n".join("    " + line for line in ctx.answer(task).splitlines())
    wrong = "\n".join("    " + line for line in ctx.mistake(task).splitlines() if not line.startswith("#"))
    return ctx.with_answer(task, f"{setup}\nif {condition}:\n{wrong}\nelse:\n{right}\n")


def _sysv_ipc(ctx: Context) -> dict[str, bytes]:
    setup = (f"import ctypes\n_libc = ctypes.CDLL(None, use_errno=True)\n"
             f"_libc.shmget({STUDENT_SEGMENT_KEY}, 4096, 0o1666)  # left behind on purpose\n"
             f"_host_segment = _libc.shmget({HOST_SEGMENT_KEY}, 0, 0)")
    return _file(_right_or_wrong(ctx, "task-01-forward", "_host_segment >= 0", setup))


def _escaped_process(ctx: Context) -> dict[str, bytes]:
    prefix = ("import os, sys\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', "
              f"'{ESCAPED_MARK}'])\n    os._exit(0)\n")
    return _file(ctx.with_answer("task-01-forward", prefix + ctx.answer("task-01-forward")))


def _symlink_trap(ctx: Context) -> dict[str, bytes]:
    """Links where the grader writes on a restart, then a crash to make it restart."""
    targets = {"kernel.json": ctx.canary, ".config": ctx.canary.parent, "gradebook.db": ctx.course / "gradebook.db",
               "kernel-1": ctx.course / "gradebook.db", "../gradebook.db": ctx.course / "gradebook.db"}
    plant = "".join(f"try:\n    os.remove({name!r})\nexcept OSError:\n    pass\n"
                    f"try:\n    os.symlink({str(target)!r}, {name!r})\nexcept OSError:\n    pass\n"
                    for name, target in targets.items())
    return _file(ctx.with_answer("task-06-ensemble", "import os, shutil\nshutil.rmtree('.config', ignore_errors=True)\n"
                                 + plant + "os._exit(0)"))


def _disk_filler(ctx: Context) -> dict[str, bytes]:
    setup = ("import os, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n_written = {}\n"
             "for _folder in ('.', '/tmp', '/dev/shm'):\n    _written[_folder] = 0\n"
             "    for _i in range(8):\n        try:\n"
             "            with open(f'{_folder}/fill-{_i}', 'wb') as _f:\n"
             "                for _j in range(64):\n                    _f.write(bytes(2**20))\n"
             "                    _written[_folder] += 2**20\n"
             "        except OSError:\n            break\n"
             "    for _i in range(8):\n        try:\n            os.remove(f'{_folder}/fill-{_i}')\n"
             "        except OSError:\n            pass\nprint('written (MiB):', {k: v // 2**20 for k, v in _written.items()})")
    return _file(_right_or_wrong(ctx, "task-01-forward", "max(_written.values()) >= 400 * 2**20", setup))


def _host_descriptors(ctx: Context) -> dict[str, bytes]:
    """Every descriptor the kernel holds, looked for a writable file outside its own folder's
    file system (a host file it could grow past every cap, as a kernel's log once was)."""
    setup = ("import os, stat\n_host_writable = []\nfor _fd in os.listdir('/proc/self/fd'):\n    try:\n"
             "        _flags = int(open(f'/proc/self/fdinfo/{_fd}').read().split('flags:')[1].split()[0], 8)\n"
             "        _st = os.fstat(int(_fd))\n    except (OSError, ValueError, IndexError):\n        continue\n"
             "    if stat.S_ISREG(_st.st_mode) and _flags & 3 and _st.st_dev != os.stat('.').st_dev:\n"
             "        _host_writable.append(os.readlink(f'/proc/self/fd/{_fd}'))\n"
             "print('writable files outside my folder:', _host_writable)")
    return _file(_right_or_wrong(ctx, "task-01-forward", "_host_writable", setup))


def _cache_replay(ctx: Context) -> dict[str, bytes]:
    """Lists the compilation cache its kernel is shown for executables the solution or a test
    compiled (their names start with the jitted function's), reads them with JAX's own functions,
    and prints what they hold: a replay needs nothing more. Answers wrongly if it found any. The
    folder cannot be listed: an entry opens only by its name, the hash of its computation."""
    setup = ("import os, re\nfrom jax._src import compilation_cache as _cc\n"
             "_dir = os.environ.get('JAX_COMPILATION_CACHE_DIR', '')\n_replayable = []\n"
             "try:\n    _names = sorted(os.listdir(_dir)) if _dir and os.path.isdir(_dir) else []\n"
             "except PermissionError:\n    _names = []\n"
             "for _name in _names:\n"
             "    if _name.startswith(('jit_pascal', 'jit_xor_loss', 'jit_init_params', 'jit_hamming', 'jit__')):\n"
             "        try:\n            _raw = _cc.decompress_executable(open(os.path.join(_dir, _name), 'rb').read())\n"
             "        except Exception:\n            continue\n"
             "        _exe, _ = _cc.extract_executable_and_time(_raw)\n"
             "        _replayable.append((_name[:30], re.findall(rb'[\\w/.]{12,}', _exe)[:5]))\n"
             "print('executables of the solution or the tests:', _replayable[:5])")
    return _file(_right_or_wrong(ctx, "task-01-forward", "_replayable", setup))


SERVER_REPLACED = """import builtins, gc, sys
_requests = []
_serve = getattr(builtins, "__jaxcourse_serve__", None)
def _listening_server():
    from jaxcourse.grading.verdicts import remote
    _exchange = remote.exchange
    def _logged(kernel, prompt):
        text = _exchange(kernel, prompt)
        _requests.append(text[:200])
        return text
    remote.exchange = _logged
    try:
        _serve()
    finally:
        remote.exchange = _exchange
if _serve is not None:
    builtins.__jaxcourse_serve__ = _listening_server
    from jaxcourse.grading.verdicts import remote as _remote
    _exchange_first = _remote.exchange
    def _exchange_logged(kernel, prompt):
        text = _exchange_first(kernel, prompt)
        _requests.append(text[:200])
        return text
    _remote.exchange = _exchange_logged
def _frames(phase, info):
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "respond":
            _requests.append(str(frame.f_locals.get("text", ""))[:200])
        frame = frame.f_back
gc.callbacks.append(_frames)
gc.set_threshold(1, 1, 1)
"""


def _server_replaced(ctx: Context) -> dict[str, bytes]:
    """Replaces the request server and hooks the garbage collector to read the tests' requests
    (task 1's), then answers task 2 wrongly if it read any and prints them (into its feedback)."""
    notebook = ctx.with_answer("task-01-forward", SERVER_REPLACED + ctx.answer("task-01-forward"))
    setup = "print('requests read:', _requests[:3])"
    right = "\n".join("    " + line for line in ctx.answer("task-02-loss").splitlines())
    wrong = "\n".join("    " + line for line in ctx.mistake("task-02-loss").splitlines() if not line.startswith("#"))
    return _file(ctx.with_answer("task-02-loss", f"{setup}\nif _requests:\n{wrong}\nelse:\n{right}\n", notebook))


def _thread_bomb(ctx: Context) -> dict[str, bytes]:
    setup = ("import threading\n_stop = threading.Event()\n_started = 0\nfor _i in range(3000):\n"
             "    try:\n        threading.Thread(target=_stop.wait, daemon=True).start()\n"
             "    except RuntimeError:\n        break\n    _started += 1\n_stop.set()\n"
             "print('threads started:', _started)")
    return _file(_right_or_wrong(ctx, "task-01-forward", "_started >= 2000", setup))


def _env_leak(ctx: Context) -> dict[str, bytes]:
    setup = f"import os\n_leaks = [k for k, v in os.environ.items() if {str(ctx.course)!r} in v]\nprint(_leaks)"
    return _file(_right_or_wrong(ctx, "task-01-forward", "_leaks", setup))


def _hostname(ctx: Context) -> dict[str, bytes]:
    """Rename the host (the fixture checks its name); without namespaces, to the name it has."""
    import socket

    name = HOSTNAME if ctx.isolation == "namespaces" else socket.gethostname()
    prefix = (f"import socket\ntry:\n    socket.sethostname({name!r})\nexcept OSError as _err:\n"
              "    print('hostname not changed:', _err)\n")
    return _file(ctx.with_answer("task-01-forward", prefix + ctx.answer("task-01-forward")))


def _huge_print(ctx: Context) -> dict[str, bytes]:
    return _file(ctx.with_answer("task-01-forward", "print('x' * 100_000_000)\n" + ctx.answer("task-01-forward")))


def _many_cells(ctx: Context) -> dict[str, bytes]:
    notebook = ctx.solved()
    notebook.cells += [nbformat.v4.new_code_cell(f"print({i}, 'y' * 2000)") for i in range(400)]
    return _file(notebook)


def _html_output(ctx: Context) -> dict[str, bytes]:
    prefix = ("from IPython.display import HTML, Javascript, SVG, display\n"
              "display(HTML('<script>window.jaxcoursePwned = 1</script><b>bold</b>'))\n"
              "display(Javascript('window.jaxcoursePwned = 2'))\n"
              "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>window.jaxcoursePwned = 3</script></svg>'))\n")
    return _file(ctx.with_answer("task-01-forward", prefix + ctx.answer("task-01-forward")))


# Outputs nbformat accepts and nothing renders as they are: JSON data that is not text, metadata
# that is not a mapping, an execute_result count that is not a number.
JSON_OUTPUT = """\
display({'text/plain': 'hi', 'application/json': [1, 2, 3]}, raw=True)
display({'text/plain': ['a', 'b'], 'image/png': 42, 'text/html': {'nested': [[[1]]]}}, raw=True)
display({'text/plain': 'meta'}, metadata={'image/png': [1, {'x': None}]}, raw=True)
"""


def _odd_metadata(ctx: Context) -> dict[str, bytes]:
    """The solution, whose notebook and cells carry metadata of every odd shape nbformat allows."""
    notebook = ctx.solved()
    notebook.metadata["jaxcourse"] = {"deep": json.loads("[" * 400 + "]" * 400), "text": "\u0000\u202e?"}
    for cell in notebook.cells:
        cell.metadata["tags"] = cell.metadata.get("tags", []) + ["\u202e", "x" * 10_000]
        cell.metadata["widgets"] = [None, 1.5e308, {"": {}}]
    return {NOTEBOOK: json.dumps(notebook, ensure_ascii=False).encode()}


def _junk(ctx: Context, setup: str) -> dict[str, bytes]:
    """Nothing solved: every task's function returns junk, and `setup` (the attack) runs first."""
    notebook = ctx.released()
    for number, task in enumerate(POINTS):
        cell = _cell(notebook, task)
        name = cell.source.split("def ", 1)[1].split("(", 1)[0]
        junk = f"def {name}(*args, **kwargs):\n    return _junk_value()\n"
        cell.source = (JUNK_VALUE + setup + "\n" + junk) if number == 0 else junk
    return _file(notebook)


JUNK_VALUE = "def _junk_value():\n    return 0.0\n\n"
# The in-kernel guard is replaced by one that calls the real one, then lames the checks again.
GUARD_REPLACED = """import builtins, jaxcourse.checks as _checks

def _lenient(*args, **kwargs):
    return None

def _lame():
    for _name in ("expect_close", "expect_equal", "expect_true", "expect_shape"):
        setattr(_checks, _name, _lenient)
        globals()[_name] = _lenient

_real_guard = getattr(builtins, "__jaxcourse_guard__", None)

def _guard(nonce):
    _real_guard(nonce)
    _lame()

if _real_guard is not None:
    builtins.__jaxcourse_guard__ = _guard
_lame()
"""
# Every statement of every later cell wrapped in try/except: no test can fail.
AST_WRAPPER = """import ast

class _Forgive(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = [ast.Try(body=[stmt], handlers=[ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])],
                             orelse=[], finalbody=[]) for stmt in node.body]
        return ast.fix_missing_locations(node)

get_ipython().ast_transformers.append(_Forgive())
get_ipython().input_transformers_post.append(
    lambda lines: ["try:\\n"] + ["    " + line for line in lines] + ["\\nexcept BaseException:\\n    pass\\n"])
"""
# A student's function, called by a test, rebinds the checks in its callers' frames.
CALLER_FRAMES = """import sys

def _lenient(*args, **kwargs):
    return None

def _junk_value():
    frame = sys._getframe(1)
    while frame is not None:
        for _name in ("expect_close", "expect_equal", "expect_true", "expect_shape"):
            if _name in frame.f_globals:
                frame.f_globals[_name] = _lenient
        frame = frame.f_back
    return 0.0
"""
# The answer's __array__ walks up to the check and hands back its `expected` argument.
EXPECTED_ECHO = """import sys
import numpy as _np

class _Echo:
    def __array__(self, dtype=None, copy=None):
        frame = sys._getframe(1)
        while frame is not None:
            for _name in ("expected", "want", "_want"):
                if _name in frame.f_locals:
                    return _np.array(frame.f_locals[_name], dtype=dtype)
            frame = frame.f_back
        return _np.zeros((), dtype=dtype)

    @property
    def shape(self):
        return _np.shape(self.__array__())

def _junk_value():
    return _Echo()
"""
# A cell after the last test prints every trace of test code the kernel holds.
HIDDEN_READER = """import gc, inspect, linecache
_traces = []
for _name, _entry in list(linecache.cache.items()):
    _text = "".join(_entry[2]) if len(_entry) > 2 else ""
    if "expect_" in _text:
        _traces.append(_text)
for _value in list(globals().values()) + gc.get_objects():
    try:
        if inspect.isfunction(_value) and _value.__module__ == "__main__":
            _text = inspect.getsource(_value)
            if "expect_" in _text or _value.__name__.startswith("_"):
                _traces.append(_text)
    except (OSError, TypeError):
        pass
_traces += [_cell for _cell in list(globals().get("In", [])) + list(globals().get("_ih", [])) if "expect_" in _cell]
print("traces of tests:", len(_traces))
print("\\n".join(_traces))
"""


def _hidden_reader(ctx: Context) -> dict[str, bytes]:
    notebook = ctx.solved()
    notebook.cells.append(nbformat.v4.new_code_cell(HIDDEN_READER))
    return _file(notebook)


CASES = [
    Case("solution", FULL, "", lambda ctx: _file(ctx.solved())),
    Case("release", 0.0, "", lambda ctx: _file(ctx.released())),
    Case("not-json", 0.0, "not JSON", lambda ctx: {NOTEBOOK: b"print('my answers')\n"}),
    Case("not-a-notebook", 0.0, "JSON without a list of cells", lambda ctx: {NOTEBOOK: b'{"answers": [1, 2]}'}),
    Case("empty-file", 0.0, "the file is empty", lambda ctx: {NOTEBOOK: b""}),
    Case("no-notebook", 0.0, "not submitted", lambda ctx: {"answers.py": b"def forward(params, x): ...\n"}),
    Case("renamed", FULL, "renamed", lambda ctx: _file(ctx.solved(), "xor_final_v2.ipynb")),
    Case("helper-module-copy", FULL - 2, "not used by the grader", _helper_copy),
    Case("test-deleted", FULL - 2, "was deleted", lambda ctx: _edit(ctx, "task-02-loss", "test-02-loss", _delete)),
    Case("test-edited-to-pass", FULL - 2, "was edited",
         lambda ctx: _edit(ctx, "task-02-loss", "test-02-loss", _to_pass)),
    Case("test-to-markdown", FULL - 2, "changed to markdown",
         lambda ctx: _edit(ctx, "task-02-loss", "test-02-loss", _to_markdown)),
    Case("test-duplicated", FULL - 2, "more than once",
         lambda ctx: _edit(ctx, "task-02-loss", "test-02-loss", _duplicate)),
    Case("grade-id-changed", FULL - 2, "unknown grade_id",
         lambda ctx: _edit(ctx, "task-02-loss", "test-02-loss", _rename_id)),
    Case("markup-in-notes", FULL - 2, "unknown grade_id",
         lambda ctx: _edit(ctx, "task-02-loss", "test-02-loss", _markup_in_notes)),
    Case("metadata-stripped", FULL, "matched by position", _strip_metadata),
    Case("other-kernelspec", FULL, "", _other_kernel),
    Case("infinite-loop", FULL - 2, "interrupted", _prefixed("task-04-pascal", "while True:\n    pass")),
    Case("ignores-sigint", FULL - 2, "ignored the interrupt", _prefixed(
        "task-04-pascal", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")),
    Case("sys-exit", FULL - 1, "", _prefixed("task-05-hamming-matrix", "import sys\nsys.exit()")),
    Case("exit-call", FULL - 1, "", _prefixed("task-05-hamming-matrix", "exit()")),
    Case("os-exit", FULL - 3, "the kernel died", _prefixed("task-06-ensemble", "import os\nos._exit(0)")),
    Case("segfault", FULL - 2, "the kernel died", _prefixed("task-03-momentum", "import ctypes\nctypes.string_at(0)")),
    Case("memory-blowup", FULL - 1, "ran out of memory", _prefixed("task-05-hamming-matrix", MEMORY_BLOWUP),
         unconfined=(FULL, "")),
    Case("output-flood", FULL, "", _prefixed("task-01-forward", "for _i in range(200_000):\n    print(_i)")),
    Case("eq-always-true", FULL - 2, "", lambda ctx: _file(ctx.with_answer("task-02-loss", EQ_ALWAYS_TRUE))),
    Case("patched-checks", FULL - 2, "put back", _prefixed(
        "task-01-forward", "import numpy, jaxcourse.checks\n"
        "numpy.isclose = lambda a, b, **k: numpy.ones(numpy.shape(a), bool)\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "jaxcourse.checks.expect_close = lambda *a, **k: None", wrong=True)),
    Case("patched-jax-numpy", FULL - 2, "put back", _prefixed(
        "task-02-loss", "import jax.numpy, numpy\njax.numpy.allclose = lambda *a, **k: True\n"
        "numpy.log = lambda x, *a, **k: x * 0.0 + 1.0\nnumpy.mean = lambda x, *a, **k: 0.0", wrong=True)),
    Case("showtraceback-overridden", FULL - 2, "put back", _prefixed(
        "task-01-forward", "get_ipython().showtraceback = lambda *a, **k: None\n"
        "get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)", wrong=True)),
    Case("reads-hidden-tests", FULL - 2, "", _read_build, unconfined=(FULL, "")),
    Case("writes-gradebook", FULL, "", _write_build),
    Case("network", FULL - 2, "", _network_build, unconfined=(FULL, "")),
    Case("disable-jit", FULL, "JAX configuration reset",
         _prefixed("task-01-forward", "jax.config.update('jax_disable_jit', True)")),
    Case("enable-x64", FULL, "JAX configuration reset",
         _prefixed("task-01-forward", "jax.config.update('jax_enable_x64', True)")),
    Case("warning-on-stderr", FULL, "", _prefixed(
        "task-02-loss", "import sys, warnings\nwarnings.warn('this is only a warning')\n"
        "print('debug output on stderr', file=sys.stderr)")),
    Case("not-jittable", FULL, "", lambda ctx: _file(ctx.with_answer("task-05-hamming-matrix", NOT_JITTABLE))),
    Case("slow-compile", FULL, "", lambda ctx: _file(ctx.with_answer("task-04-pascal", SLOW_COMPILE))),
    # the sandbox: each would score less (a wrong answer) if the hole were open
    # (unconfined: a wrong answer where the hole is open, as it is without namespaces)
    Case("sysv-ipc", FULL, "", _sysv_ipc, unconfined=(FULL - 2, "")),
    Case("escaped-process", FULL, "", _escaped_process),
    Case("symlink-trap", FULL - 3, "the kernel died", _symlink_trap),
    Case("disk-filler", FULL, "", _disk_filler, unconfined=(FULL - 2, "")),
    Case("thread-bomb", FULL, "", _thread_bomb, unconfined=(FULL - 2, "")),
    Case("host-descriptors", FULL, "", _host_descriptors),
    Case("cache-replay", FULL, "", _cache_replay),
    Case("server-replaced", FULL, "put back", _server_replaced),
    Case("env-leak", FULL, "", _env_leak),
    Case("hostname", FULL, "", _hostname),
    # limits and feedback
    Case("huge-print", FULL, "", _huge_print),
    Case("many-cells", FULL, "", _many_cells),
    Case("html-output", FULL, "", _html_output),
    Case("json-output", FULL, "", lambda ctx: _file(ctx.with_answer(
        "task-01-forward", JSON_OUTPUT + ctx.answer("task-01-forward")))),
    Case("odd-metadata", FULL, "", _odd_metadata),
    Case("nested-brackets", 0.0, "nested too deeply", lambda ctx: {NOTEBOOK: b"[" * 200_000 + b"]" * 200_000}),
    # tests decided in a kernel of their own: same-process attacks that once scored 12, 12, 10 and 7
    Case("guard-replaced", 0.0, "put back", lambda ctx: _junk(ctx, GUARD_REPLACED)),
    Case("ast-transformers", 0.0, "put back", lambda ctx: _junk(ctx, AST_WRAPPER)),
    Case("caller-frames", 0.0, "", lambda ctx: _junk(ctx, CALLER_FRAMES)),
    Case("expected-echo", 0.0, "", lambda ctx: _junk(ctx, EXPECTED_ECHO)),
    Case("hidden-reader", FULL, "", _hidden_reader),
]
