"""The user's own task function: ``workload = "module:function"`` or ``"path/to/file.py:function"``.

The parent resolves it once per run (:func:`resolve`: imports it, checks it can be called, reads
its signature) before any process starts, so every problem is one line naming the module or file
and exit code 2. A consumer imports it once at start (:func:`load`, before its first get) and
calls it for each task: ``fn(value)`` when it takes one argument, ``fn(value, duration)`` when it
takes two, where ``value`` is the task's number (the ``i`` of the tutorial's ``(i, random())``)
and ``duration`` the task's drawn duration in seconds (task_duration × time_scale), for a function
that wants to use it. What it returns is recorded as its repr, shortened (:func:`short_repr`);
what it raises fails the task, with its traceback (:func:`failure_text`).

Kept light: a worker imports this module (importlib, reprlib), never ``inspect`` or
``traceback`` unless a task fails.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import reprlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

__all__ = [
    "BUILT_IN",
    "REPR_MAX",
    "OwnFunction",
    "WorkloadError",
    "check",
    "failure_text",
    "form_error",
    "is_own",
    "load",
    "peek",
    "resolve",
    "short_repr",
]

BUILT_IN = ("sleep", "cpu")  # the workloads QueueLab does itself
REPR_MAX = 80  # characters of a returned value's repr that are kept
TRACEBACK_MAX = 2000  # characters of a failure's traceback that are kept (its end)
FULL_TRACEBACKS = 100  # per worker; later failures keep their innermost frame and exception
SHORT_TRACEBACK_MAX = 400
FORMS = '"module:function" or "path/to/file.py:function"'


class WorkloadError(ValueError):
    """The user's function cannot be used: one line naming the module or file and why."""


@dataclass(frozen=True)
class OwnFunction:
    """A resolved workload: where to import the function from and how to call it."""

    text: str  # the workload as configured
    module: str  # a module name, or the file's stem for a file
    attr: str  # the function's name in it (dotted for a class's method: "Class.method")
    args: int  # 1: fn(value); 2: fn(value, duration)
    file: str | None = None  # absolute path of the .py file (file form)
    path: str | None = None  # put first on sys.path before importing (module form: the cwd)

    @property
    def where(self) -> str:
        """The module or file, as messages name it."""
        return f"file {self.file}" if self.file else f"module {self.module!r}"


def is_own(workload: str) -> bool:
    """True for a user's function, False for QueueLab's own ``sleep`` and ``cpu``."""
    return workload not in BUILT_IN


def _split(text: str) -> tuple[str, str]:
    # rpartition: a Windows path "C:\\x.py:f" keeps its drive letter.
    where, _, attr = text.rpartition(":")
    return where.strip(), attr.strip()


def _is_file(where: str) -> bool:
    return where.endswith(".py") or "/" in where or os.sep in where


def form_error(text: str) -> str | None:
    """Why ``text`` is not of the form module:function or file.py:function; None when it is.

    The form only: whether it imports is :func:`resolve`'s to say, when a run starts (a
    trace recorded elsewhere must still load and replay).
    """
    where, attr = _split(text)
    if not where:
        return "no module or file before ':'"
    if not attr:
        return "no function name after ':'"
    if not all(part.isidentifier() for part in attr.split(".")):
        return f"{attr!r} is not a function name"
    if not _is_file(where) and not all(part.isidentifier() for part in where.split(".")):
        return f"{where!r} is not a module name (a file must end in .py)"
    return None


def resolve(workload: str, cwd: str | None = None) -> OwnFunction:
    """Import the function in this process, check it, and say how workers call it.

    A relative file is found from ``cwd`` (the current directory); a module as ``python -m``
    finds it, the current directory first. Raises :class:`WorkloadError`.
    """
    problem = form_error(workload)
    if problem:
        raise WorkloadError(f"{_named(workload)} is not allowed: {problem}")
    cwd = os.path.abspath(cwd or os.getcwd())
    where, attr = _split(workload)
    if _is_file(where):
        path = os.path.normpath(os.path.join(cwd, os.path.expanduser(where)))
        stem = os.path.splitext(os.path.basename(path))[0]
        own = OwnFunction(workload, stem, attr, 1, file=path)
    else:
        own = OwnFunction(workload, where, attr, 1, path=cwd)
    fn = _import(own, fresh=True)
    return OwnFunction(own.text, own.module, own.attr, _arity(own, fn), own.file, own.path)


def peek(workload: str, cwd: str | None = None) -> OwnFunction:
    """Where the function is and how it is called, read from its source without running it.

    For ``main.py code`` and the window's program view (which follows every edit): the user's
    module is found (a module's parent packages are imported to find it) and its ``def`` read
    with ``ast``; what cannot be read this way is called with the value alone. For a module,
    ``path`` is the folder the module was found in (for the program's ``sys.path``).
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    where, attr = _split(workload)
    source: str | None = None
    if _is_file(where):
        path = os.path.normpath(os.path.join(cwd, os.path.expanduser(where)))
        own = OwnFunction(workload, os.path.splitext(os.path.basename(path))[0], attr, 1, path)
        source = path
    else:
        entry = None
        try:
            with _first_on_path(cwd, keep=False):  # found as resolve() finds it
                spec = importlib.util.find_spec(where)
        except Exception:  # why: a parent package may fail to import; the program still says it
            spec = None
        if spec is not None and spec.origin and os.path.isfile(spec.origin):
            source = spec.origin
            up = where.count(".") + (2 if spec.submodule_search_locations else 1)
            entry = spec.origin
            for _ in range(up):
                entry = os.path.dirname(entry)
        own = OwnFunction(workload, where, attr, 1, path=entry)
    args = _source_arity(source, attr) if source and source.endswith(".py") else None
    return OwnFunction(own.text, own.module, own.attr, args or 1, own.file, own.path)


def _source_arity(path: str, attr: str) -> int | None:
    """1 or 2 from the ``def`` of ``attr`` in the file at ``path``; None when not found there."""
    import ast

    try:
        with open(path, encoding="utf-8") as f:
            tree: ast.AST = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    parts = attr.split(".")
    for part in parts:
        found = None
        for node in getattr(tree, "body", []):
            kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            if isinstance(node, kinds) and node.name == part:
                found = node
        if found is None:
            return None
        tree = found
    if not isinstance(tree, ast.FunctionDef):
        return None
    a = tree.args
    names = [x.arg for x in (*a.posonlyargs, *a.args)]
    if len(parts) > 1 and names and names[0] in ("self", "cls"):
        names = names[1:]
    return 2 if len(names) >= 2 or a.vararg is not None else 1


def check(workload: str) -> OwnFunction | None:
    """:func:`resolve` for a user's function; None for ``sleep`` and ``cpu``."""
    return resolve(workload) if is_own(workload) else None


def load(own: OwnFunction) -> Callable:
    """In a worker: import the function (its signature was read by the parent)."""
    return _import(own, fresh=False)


def _import(own: OwnFunction, fresh: bool) -> Callable:
    try:
        if fresh:
            importlib.invalidate_caches()  # a module written since the last try is found
        module = _load_file(own, fresh) if own.file else _load_module(own, fresh)
    except WorkloadError:
        raise
    except SyntaxError as exc:
        line = f" line {exc.lineno}" if exc.lineno else ""
        raise WorkloadError(
            f"{_named(own.text)}: {own.where}{line}: SyntaxError: {exc.msg}"
        ) from None
    except ModuleNotFoundError as exc:
        name = exc.name or ""
        if own.file is None and (own.module == name or own.module.startswith(name + ".")):
            raise WorkloadError(
                f"{_named(own.text)}: cannot import module {own.module!r}: {exc} "
                "(run from the folder that holds it, or give a path/to/file.py)"
            ) from None
        raise WorkloadError(f"{_named(own.text)}: importing {own.where} failed: "
                            f"ModuleNotFoundError: {exc}") from None  # fmt: skip
    except Exception as exc:  # why: the user's module may raise anything while it loads
        raise WorkloadError(
            f"{_named(own.text)}: importing {own.where} raised "
            f"{type(exc).__name__}: {_one_line(str(exc))}"
        ) from None
    target: object = module
    for part in own.attr.split("."):
        if not hasattr(target, part):
            raise WorkloadError(f"{_named(own.text)}: {own.where} has no function {own.attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise WorkloadError(
            f"{_named(own.text)}: {own.attr!r} in {own.where} is not callable "
            f"(it is {type(target).__name__!r})"
        )
    return target


def _load_module(own: OwnFunction, fresh: bool) -> ModuleType:
    with _first_on_path(own.path, keep=not fresh):
        return importlib.import_module(own.module)


def _load_file(own: OwnFunction, fresh: bool) -> ModuleType:
    path = own.file or ""
    if not os.path.isfile(path):
        raise WorkloadError(f"{_named(own.text)}: no such file: {path}")
    # The parent loads it under a private name each time (a file edited between runs is read
    # again); a worker under the file's stem when that name is free, so its classes pickle.
    name = own.module if not fresh and own.module not in sys.modules else f"_queuelab_{own.module}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkloadError(f"{_named(own.text)}: cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickle look a class's module up by name
    try:
        # Its own folder first, as `python file.py` has it: the file may import its neighbours.
        with _first_on_path(os.path.dirname(path), keep=not fresh):
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@contextmanager
def _first_on_path(folder: str | None, keep: bool) -> Iterator[None]:
    """``folder`` first on sys.path while importing; for good in a worker (``keep``).

    The parent takes it off again: the current directory first on its path would shadow
    QueueLab's own modules for everything it imports or starts later (a ``main.py`` there
    would be what a spawned worker imports as QueueLab's).
    """
    added = bool(folder) and folder not in sys.path
    if added:
        sys.path.insert(0, folder)  # type: ignore[arg-type]
    try:
        yield
    finally:
        if added and not keep:
            try:
                sys.path.remove(folder)  # type: ignore[arg-type]
            except ValueError:
                pass


def _arity(own: OwnFunction, fn: Callable) -> int:
    """1 or 2: how many arguments the parent's reading of the signature says to pass."""
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return 1  # a built-in without a signature: the value alone
    positional = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]  # fmt: skip
    star = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    required = [p for p in positional if p.default is p.empty]
    kw_required = [p.name for p in sig.parameters.values()
                   if p.kind == p.KEYWORD_ONLY and p.default is p.empty]  # fmt: skip
    name = f"{own.attr}{sig}"
    if kw_required:
        raise WorkloadError(
            f"{_named(own.text)}: {name} needs keyword arguments "
            f"({', '.join(kw_required)}); it is called as fn(value) or fn(value, duration)"
        )
    if len(required) > 2:
        raise WorkloadError(
            f"{_named(own.text)}: {name} needs {len(required)} arguments; "
            "it is called as fn(value) or fn(value, duration)"
        )
    if not positional and not star:
        raise WorkloadError(
            f"{_named(own.text)}: {name} takes no argument; "
            "it is called as fn(value) or fn(value, duration)"
        )
    return 2 if len(positional) >= 2 or star else 1


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr; a long string is its first characters, cut like the rest."""

    def repr_str(self, x: str, level: int) -> str:
        return repr(x[: REPR_MAX + 1])


_repr = _ShortRepr()
# Bounded work for any size: a million-item list shows its first items, not a megabyte.
_repr.maxother = REPR_MAX
_repr.maxlong = 40
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdeque = 24
_repr.maxdict = 10
_repr.maxlevel = 3


def short_repr(value: object) -> str:
    """``repr(value)``, at most REPR_MAX characters (an ellipsis marks a cut), one line."""
    try:
        text = _repr.repr(value)
    except Exception as exc:  # why: a user's __repr__ may raise
        text = f"<{type(value).__name__}: repr() raised {type(exc).__name__}>"
    text = _one_line(text)
    return text if len(text) <= REPR_MAX else text[: REPR_MAX - 1] + "…"


def failure_text(exc: BaseException, full: bool = True) -> str:
    """The traceback of what the user's function raised, from its own frame on.

    ``full=False`` (a worker past FULL_TRACEBACKS failures) keeps the innermost frame and the
    exception: a function failing on every task of a long run must not flood the trace.
    """
    import traceback

    tb = exc.__traceback__
    # The first frame is the worker's call into the function: not the user's code.
    tb = tb.tb_next if tb is not None and tb.tb_next is not None else tb
    if not full:
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    limit = TRACEBACK_MAX if full else SHORT_TRACEBACK_MAX
    text = "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _named(workload: str) -> str:
    """How messages name the setting, as config errors do: workload = "mod:fn"."""
    return f'workload = "{workload}"'


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text else text
