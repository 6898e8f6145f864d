"""Runs inside a student's kernel: undo what student code may have changed before each test.

`install` is called once, by the grader, before any student code runs. It snapshots what the
tests rely on (the functions of numpy, jax and the course's checks, builtins, JAX's
configuration, the IPython machinery that decides whether a cell failed) and puts a guard in
`builtins`. The grader calls the guard right before every test cell: it puts everything back,
lists what it had to put back, and proves it ran by hashing a fresh nonce with a secret that only
the grader and the guard know.

This undoes accidents (`jax_enable_x64` left on, a patched NumPy function) before the student's
code answers a test, and names what it put back for review. Code written to defeat the guard can
still do it from inside the same process, which is why tests are decided in a kernel of their own
(`remote`); the test kernel uses the same snapshot to start each notebook from the same state.
"""

from __future__ import annotations

import builtins
import gc
import hashlib
import importlib
import sys
import threading
import types

WATCHED = (
    "builtins", "math", "operator", "functools",
    "numpy", "numpy.testing", "numpy.linalg",
    "jax", "jax.numpy", "jax.random", "jax.nn", "jax.lax", "jax.tree_util",
    "jaxcourse.checks", "jaxcourse.grading.verdicts.remote", "jaxcourse.grading.verdicts.wire",
)
ALIASES = {"np": "numpy", "jnp": "jax.numpy", "jax": "jax", "lax": "jax.lax"}
SHELL_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
# excepthook, displayhook and builtins.input are swapped by IPython itself around every cell.
SYS_HOOKS = ("stdout", "stderr")
RESULT_NAMES = {"_", "__", "___", "input", "raw_input"}
GUARD_NAME = "__jaxcourse_guard__"
RECEIPT_NAME = "__jaxcourse_receipt__"
CHANGES_NAME = "__jaxcourse_changes__"


def receipt(secret: str, nonce: str) -> str:
    return hashlib.sha256(f"{secret}:{nonce}".encode()).hexdigest()


def _callables(namespace: dict) -> dict:
    return {k: v for k, v in namespace.items() if callable(v) and k not in RESULT_NAMES}


def _user_threads(before: set) -> list[str]:
    found = []
    for thread in threading.enumerate():
        if thread in before:
            continue
        target = getattr(thread, "_target", None)
        module = getattr(target, "__module__", None) or type(thread).__module__
        if module in ("__main__", None) or module.startswith("__main__"):
            found.append(thread.name)
    return found


def install(secret: str, shell=None, watched=WATCHED) -> None:
    """Snapshot the trusted state and publish the guard as `builtins.__jaxcourse_guard__`."""
    if shell is None:
        shell = get_ipython()  # noqa: F821 (only defined inside IPython)

    def refuse_exit():
        # exit() would shut the kernel down a moment later, in the middle of some other cell.
        raise SystemExit("exit() ends this cell; the grader keeps the kernel running")

    shell.ask_exit = refuse_exit
    modules = {}
    for name in watched:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError:
            continue
    module_attrs = {name: _callables(vars(m)) for name, m in modules.items()}
    objects = [shell, getattr(shell, "kernel", None)]
    objects = [o for o in objects if o is not None]
    classes = {cls for obj in objects for cls in type(obj).__mro__ if cls is not object}
    class_attrs = {cls: _callables(vars(cls)) for cls in classes}
    instance_attrs = [(obj, _callables(vars(obj))) for obj in objects]
    shell_lists = {name: list(getattr(shell, name, [])) for name in SHELL_LISTS}
    events = {name: list(callbacks) for name, callbacks in shell.events.callbacks.items()}
    custom_exceptions = shell.custom_exceptions
    hooks = {name: getattr(sys, name) for name in SYS_HOOKS}
    meta_path, path_hooks = list(sys.meta_path), list(sys.path_hooks)
    gc_callbacks, gc_threshold = list(gc.callbacks), gc.get_threshold()  # a callback can walk up any frame
    jax = modules.get("jax")
    config = dict(jax.config.values) if jax is not None else {}
    threads = set(threading.enumerate())

    def restore_namespace(label: str, namespace: dict, saved: dict, changed: list) -> None:
        for key, value in saved.items():
            if namespace.get(key) is not value:
                namespace[key] = value
                changed.append(f"{label}.{key}")

    def guard(nonce: str) -> None:
        changed: list[str] = []
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        for name, module in modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                changed.append(f"sys.modules[{name!r}]")
            restore_namespace(name, vars(module), module_attrs[name], changed)
        for cls, saved in class_attrs.items():
            for key, value in saved.items():
                if vars(cls).get(key) is not value:
                    setattr(cls, key, value)
                    changed.append(f"{cls.__name__}.{key}")
        for obj, saved in instance_attrs:
            label = type(obj).__name__
            for key, value in list(vars(obj).items()):
                if key in saved:
                    if value is not saved[key]:
                        setattr(obj, key, saved[key])
                        changed.append(f"{label}.{key}")
                elif callable(value) and any(callable(vars(c).get(key)) for c in type(obj).__mro__):
                    delattr(obj, key)
                    changed.append(f"{label}.{key}")
        for name, saved in shell_lists.items():
            current = getattr(shell, name, None)
            if not isinstance(current, list) or current != saved:
                setattr(shell, name, list(saved))
                changed.append(f"shell.{name}")
        for name, callbacks in shell.events.callbacks.items():
            if callbacks != events.get(name, []):
                callbacks[:] = events.get(name, [])
                changed.append(f"shell.events[{name!r}]")
        if shell.custom_exceptions != custom_exceptions:
            shell.custom_exceptions = custom_exceptions
            changed.append("shell.custom_exceptions")
        for name, value in hooks.items():
            if getattr(sys, name) is not value:
                setattr(sys, name, value)
                changed.append(f"sys.{name}")
        if sys.meta_path != meta_path:
            sys.meta_path[:] = meta_path
            changed.append("sys.meta_path")
        if sys.path_hooks != path_hooks:
            sys.path_hooks[:] = path_hooks
            changed.append("sys.path_hooks")
        if gc.callbacks != gc_callbacks or gc.get_threshold() != gc_threshold:
            gc.callbacks[:] = gc_callbacks
            gc.set_threshold(*gc_threshold)
            changed.append("gc.callbacks")
        if jax is not None:
            for key, value in config.items():
                if jax.config.values.get(key) != value:
                    try:
                        jax.config.update(key, value)
                    except Exception:  # some options cannot change once a backend is up
                        continue
                    changed.append(f"config:{key}")
        user_ns = shell.user_ns
        for alias, name in ALIASES.items():
            module = modules.get(name)
            if alias in user_ns and module is not None and user_ns[alias] is not module:
                if isinstance(user_ns[alias], types.ModuleType) and user_ns[alias].__name__ == name:
                    continue
                user_ns[alias] = module
                changed.append(f"user_ns.{alias}")
        changed += [f"thread:{name}" for name in _user_threads(threads)]
        user_ns[CHANGES_NAME] = changed
        user_ns[RECEIPT_NAME] = receipt(secret, nonce)

    setattr(builtins, GUARD_NAME, guard)
