"""What an app's code declares, found in a process of its own (never in the Jupyter server).

``python -m jobext.apps.discover '<request JSON>'`` runs in the job directory with
``{"module": "pkg.mod"}`` or ``{"path": "/abs/file.py or folder", "root": "/abs/root dir"}``.
It imports the app's modules (a package with every submodule; a folder with every module and
package at its top level but ``setup.py``, ``conftest.py`` and ``test_*.py``), collects the
functions ``@jobext.job`` marked there and, in a folder, the notebooks whose metadata holds a
``jobext`` object, and prints one JSON object on its standard output::

    {"ok": true, "digest": "<sha256>", "files": [...], "import_path": "apps/etl" | null,
     "jobs": [{"function", "module", "target", "where", "doc", "options"}],
     "notebooks": [{"target", "where", "options"}]}

or ``{"ok": false, "error": "<the exception's last line>", "where": "file.py:12",
"traceback": "..."}``. Whatever the app's code prints goes elsewhere (the server discards it).
Nothing is checked here that the server checks again: this only describes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pkgutil
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from jobext.job import declare

_SKIPPED_MODULES = ("setup", "conftest")
_NOTEBOOK_SKIPPED_DIRS = (".ipynb_checkpoints", "__pycache__", "node_modules")


class Failed(Exception):
    """Discovery cannot go on: ``message`` says why, ``where`` points at the code."""

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where


class Discovery:
    """One app's modules, imported, and what they declare."""

    def __init__(self, request: dict[str, Any]):
        self.module_name: str | None = request.get("module")
        self.path = Path(request["path"]) if request.get("path") else None
        self.root = Path(request.get("root") or os.getcwd())
        #: Where relative file names in the answer start: the root dir, or the job directory.
        self.base = self.root if self.path is not None else Path(os.getcwd())
        self.import_dir: Path | None = None
        self.modules: list[ModuleType] = []

    # ------------------------------------------------------------------ importing

    def load(self) -> None:
        """Import every module of the app."""
        if self.path is None:
            assert self.module_name is not None
            self._import_tree(self.module_name)
            return
        if self.path.is_file():
            self.import_dir = self.path.parent
            sys.path.insert(0, str(self.import_dir))
            module = self._import_tree(self.path.stem)
            self._check_origin(module, self.path)
            return
        self.import_dir = self.path
        sys.path.insert(0, str(self.path))
        for info in sorted(pkgutil.iter_modules([str(self.path)]), key=lambda i: i.name):
            if info.name in _SKIPPED_MODULES or info.name.startswith("test_"):
                continue
            module = self._import_tree(info.name)
            origin = self.path / info.name
            self._check_origin(module, origin if info.ispkg else origin.with_suffix(".py"))

    def _import_tree(self, name: str) -> ModuleType:
        module = importlib.import_module(name)
        self.modules.append(module)
        if hasattr(module, "__path__"):
            for info in pkgutil.iter_modules(module.__path__, prefix=name + "."):
                self._import_tree(info.name)
        return module

    def _check_origin(self, module: ModuleType, expected: Path) -> None:
        """A file named like a module imported before (``json.py``) is not that module."""
        origin = Path(getattr(module, "__file__", None) or "")
        if origin.name == "__init__.py":
            origin = origin.parent
        if origin.with_suffix("").resolve() != expected.with_suffix("").resolve():
            raise Failed(
                f"the module name {module.__name__!r} is taken by {origin or 'a built-in'}: "
                "rename the file",
                self.relative(expected),
            )

    # ------------------------------------------------------------------ describing

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the root dir (path apps) or the job directory (module apps),
        as a POSIX path; absolute when it is outside."""
        resolved = Path(path).resolve()
        base = self.base.resolve()
        if resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix()
        return resolved.as_posix()

    def own(self, module_name: str) -> bool:
        """Whether the module ``module_name`` is one of the app's."""
        return any(module_name == m.__name__ for m in self.modules)

    def jobs(self) -> list[dict[str, Any]]:
        """The ``@jobext.job`` objects of the app's modules, in the order they were marked."""
        found = []
        seen: set[int] = set()
        for obj, options in declare.declared:
            module_name = getattr(obj, "__module__", None)
            if not module_name or not self.own(module_name) or id(obj) in seen:
                continue
            seen.add(id(obj))
            qualname = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
            where = self._where(obj)
            target = f"{module_name}:{qualname}"
            if _resolve(sys.modules[module_name], qualname) is not obj:
                raise Failed(
                    f"{qualname} is not reachable as {target}: mark functions and classes "
                    "defined at the top level of a module",
                    where,
                )
            found.append(
                {
                    "function": getattr(obj, "__name__", qualname),
                    "module": module_name,
                    "target": target,
                    "where": where,
                    "doc": _first_line(getattr(obj, "__doc__", None)),
                    "options": _json_options(options, where),
                }
            )
        return found

    def _where(self, obj: Any) -> str | None:
        code = getattr(obj, "__code__", None)
        module = sys.modules.get(getattr(obj, "__module__", "") or "")
        filename = getattr(code, "co_filename", None) or getattr(module, "__file__", None)
        if not filename:
            return None
        line = getattr(code, "co_firstlineno", None)
        return f"{self.relative(filename)}:{line}" if line else self.relative(filename)

    def notebooks(self) -> list[dict[str, Any]]:
        """The notebooks under a folder app whose metadata holds a ``jobext`` object."""
        if self.path is None or not self.path.is_dir():
            return []
        found = []
        for notebook in sorted(self.path.rglob("*.ipynb")):
            parts = notebook.relative_to(self.path).parts
            if any(p.startswith(".") or p in _NOTEBOOK_SKIPPED_DIRS for p in parts[:-1]):
                continue
            where = self.relative(notebook)
            try:
                metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata")
            except (OSError, ValueError, AttributeError) as exc:
                raise Failed(f"cannot read the notebook: {exc}", where) from None
            marked = metadata.get("jobext") if isinstance(metadata, dict) else None
            if marked is None:
                continue
            if not isinstance(marked, dict):
                raise Failed("its metadata's 'jobext' must be an object", where)
            found.append({"target": where, "where": where, "options": _json_options(marked, where)})
        return found

    def describe(self) -> dict[str, Any]:
        """The answer: jobs, notebooks, and the digest of the files they come from."""
        jobs = self.jobs()
        notebooks = self.notebooks()
        files = {Path(m.__file__).resolve() for m in self.modules if m.__file__}
        files.update((self.root / n["target"]).resolve() for n in notebooks)
        named = sorted((self.relative(f), f) for f in files)
        digest = hashlib.sha256()
        for name, path in named:
            digest.update(name.encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return {
            "ok": True,
            "digest": digest.hexdigest(),
            "files": [name for name, _ in named],
            "import_path": self.relative(self.import_dir) if self.import_dir else None,
            "jobs": jobs,
            "notebooks": notebooks,
        }

    def _is_app_file(self, filename: str) -> bool:
        if filename.startswith("<"):
            return False
        home = (self.import_dir or self.base).resolve()
        return Path(filename).resolve().is_relative_to(home)

    def failure(self, exc: BaseException) -> dict[str, Any]:
        """The answer when importing raised: the exception's last line and where it was."""
        if isinstance(exc, Failed):
            return {"ok": False, "error": exc.message, "where": exc.where, "traceback": None}
        lines = traceback.format_exception_only(type(exc), exc)
        where = None
        if isinstance(exc, SyntaxError) and exc.filename:
            where = f"{self.relative(exc.filename)}:{exc.lineno}"
        else:
            home = [
                f for f in traceback.extract_tb(exc.__traceback__) if self._is_app_file(f.filename)
            ]
            if home:
                where = f"{self.relative(home[-1].filename)}:{home[-1].lineno}"
        return {
            "ok": False,
            "error": lines[-1].strip(),
            "where": where,
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        }


def _resolve(module: ModuleType, qualname: str) -> Any:
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _first_line(doc: str | None) -> str | None:
    if not doc or not doc.strip():
        return None
    return doc.strip().splitlines()[0].strip()


def _json_options(options: dict[str, Any], where: str | None) -> dict[str, Any]:
    """``options`` as JSON values; :class:`Failed` naming the option that is not one."""
    for key, value in options.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise Failed(f"{key}: is not a JSON value ({exc})", where) from None
    return options


def compile_from_source(homes: list[Path]) -> None:
    """Import the modules under ``homes`` (but not installed ones) from their source, never
    from ``__pycache__``, and write no bytecode.

    A ``.pyc`` is trusted when its source's size and modification second match; a module
    edited twice within a second to the same size would otherwise be deployed as it was.
    """
    from importlib.machinery import SourceFileLoader

    sys.dont_write_bytecode = True
    installed = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    roots = tuple(str(h.resolve()) + os.sep for h in homes)
    original = SourceFileLoader.path_stats

    def path_stats(self: SourceFileLoader, path: str) -> dict[str, Any]:
        stats = dict(original(self, path))
        if path.startswith(roots) and not path.startswith(installed):
            stats["mtime"] = -1.0  # matches no cached bytecode
        return stats

    SourceFileLoader.path_stats = path_stats  # type: ignore[method-assign]


def main() -> None:
    """Describe the app named by ``sys.argv[1]`` on standard output, and exit."""
    request = json.loads(sys.argv[1])
    # The answer goes to the real standard output; whatever the app prints, to standard error.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    discovery = Discovery(request)
    compile_from_source([Path(os.getcwd()), discovery.root])
    try:
        discovery.load()
        answer = discovery.describe()
    except BaseException as exc:  # SystemExit or KeyboardInterrupt at import: errors too
        answer = discovery.failure(exc)
    data = json.dumps(answer, allow_nan=False).encode()
    with os.fdopen(answer_fd, "wb") as out:
        out.write(data)
    # Threads the app started must not keep this process alive.
    os._exit(0)


if __name__ == "__main__":
    main()
