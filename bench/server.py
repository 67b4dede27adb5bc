"""The one launcher of real ``jupyter server`` subprocesses with jobext, for the benchmarks and
the tests, and an HTTP client for the server it started.

Everything a server writes (config, data and runtime dirs, the SQLite database, results, its log)
lives in one directory: a temporary one of its own, or ``workdir`` (several servers given the same
``workdir`` share the database, results and root dir, as the durability tests want). Variables of
the caller's environment that would leak another configuration in (``JUPYTER_*``, ``JOBEXT_*``,
``JPY_*``) are dropped, so a server never touches the user's home or another server.

The tests import it as ``bench.server`` (tests/conftest.py puts the repository root on
``sys.path``): it lives here, not in the shipped ``jobext`` package, because only jobext's own
tooling starts servers this way.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
API = "/jobext/api/v1"

#: When set (``python -m bench --profile``), every server is sampled by py-spy and its stacks are
#: written to ``<PROFILE_DIR>/<name>.txt`` (collapsed "frame;frame;... count" lines).
PROFILE_DIR: Path | None = None
#: Where the servers and their jobs keep compiled bytecode (None: leave the environment alone).
BYTECODE_CACHE: Path | None = Path(__file__).resolve().parent / ".cache" / "pycache"
#: Environment variables of the caller that a server must not inherit (they would point it at
#: another configuration, database or server).
FOREIGN_ENV = ("JUPYTER_", "JOBEXT_", "JPY_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_proc_status(pid: int) -> dict[str, int]:
    """``VmRSS``/``VmHWM`` (peak RSS) of a process in bytes, from /proc (Linux); {} elsewhere."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def peak_rss(pid: int) -> int | None:
    """Peak resident set size of ``pid`` in bytes (VmHWM; psutil's current RSS as a fallback)."""
    status = read_proc_status(pid)
    if "VmHWM" in status:
        return status["VmHWM"]
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:
        return None


class ApiError(RuntimeError):
    pass


class ServerError(RuntimeError):
    """The server did not start, or did not stop when asked."""


class JupyterServer:
    """Start with :meth:`start` (or ``with``), talk with :meth:`get`/:meth:`post`, end with
    :meth:`stop` (graceful, then forced), :meth:`terminate` (graceful, fails if it hangs) or
    :meth:`kill` (a crash).

    ``config`` holds ``c.JobExtApp`` overrides (``--JobExtApp.key=value``); the database is
    ``db_url``, else the SQLite file ``db_file`` (a prepared database used in place, so hand over
    a copy), else ``jobext.db`` in the server's directory. ``jobs_module`` is written as
    ``benchjobs.py`` into the root dir. ``token`` defaults to a fresh one.
    """

    #: The exception :meth:`start` raises (a subclass may raise its own).
    start_error: type[Exception] = ServerError

    def __init__(
        self,
        *,
        name: str = "bench",
        jobs_module: str | None = None,
        db_file: Path | None = None,
        db_url: str | None = None,
        config: dict[str, Any] | None = None,
        extra_args: list[str] | None = None,
        workdir: Path | None = None,
        root_dir: Path | None = None,
        token: str | None = None,
        log_name: str = "server.log",
    ):
        self.name = name
        self.tmp = Path(workdir or tempfile.mkdtemp(prefix=f"jobext-bench-{name}-"))
        self._own_tmp = workdir is None
        self.root = root_dir or (self.tmp / "root")
        self.db_file = db_file or (self.tmp / "jobext.db")
        self.db_url = db_url or f"sqlite:///{self.db_file}"
        self.results = self.tmp / "results"
        self.config = dict(config or {})
        self.token = token or secrets.token_hex(16)
        self.port = 0
        self.jobs_module = jobs_module
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.tmp / log_name
        self._log_file: Any = None
        self.session = self.new_session()
        self.startup_s: float | None = None
        self.peak_rss_bytes: int | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def exit_code(self) -> int | None:
        """The server's exit status once stopped (0: it shut down cleanly)."""
        return None if self.process is None else self.process.returncode

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}
        for var, sub in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("IPYTHONDIR", "ipython"),
        ):
            path = self.tmp / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        if BYTECODE_CACHE is not None:
            # Job processes import jobext afresh for every run; an installed package has its
            # bytecode compiled, so give the server and its jobs a bytecode cache even where the
            # environment disables writing one (PYTHONDONTWRITEBYTECODE). It lives outside the
            # source tree (PYTHONPYCACHEPREFIX), in bench/.cache/.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(BYTECODE_CACHE)
        return env

    def server_args(self) -> list[str]:
        """The ``jupyter server`` options every server gets (port, token, root dir)."""
        return [
            "--allow-root",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.open_browser=False",
        ]

    def command(self) -> list[str]:
        """The command line of the server: this interpreter's ``jupyter server`` with jobext."""
        config = {"db_url": self.db_url, "results_dir": str(self.results), **self.config}
        return [
            sys.executable,
            "-m",
            "jupyter_server",
            *self.server_args(),
            "--ServerApp.jpserver_extensions={'jobext': True}",
            *(f"--JobExtApp.{key}={value}" for key, value in config.items()),
            *self.extra_args,
        ]

    def ready(self) -> bool:
        """Does the server answer yet? (jobext's ``GET /stats``)"""
        return bool(self.session.get(self.url("stats"), timeout=5).status_code == 200)

    def start(self, timeout: float = 120.0) -> JupyterServer:
        """Start the server and return once :meth:`ready`; raise :attr:`start_error` (with the
        log's tail) when it exits or does not answer within ``timeout`` s. A port taken by
        another process meanwhile is retried on another port."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.jobs_module is not None:
            (self.root / "benchjobs.py").write_text(self.jobs_module)
        env = self.env()
        began = time.perf_counter()
        for _attempt in range(3):
            self.port = free_port()
            self._log_file = self.log_path.open("wb")
            self.process = subprocess.Popen(
                self.command(),
                cwd=str(self.root),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                up = self._wait_ready(timeout)
            except BaseException:
                self.stop()
                raise
            if up:
                self.startup_s = time.perf_counter() - began
                return self
            self._close_log()
            if "already in use" not in self.log_tail(400):
                break
        raise self.start_error(
            f"{self.name}: the server exited with {self.exit_code} while starting:\n"
            + self.log_tail()
        )

    def _wait_ready(self, timeout: float) -> bool:
        """True once ready; False when the process exited; raises when it does not answer."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            with contextlib.suppress(requests.RequestException):
                if self.ready():
                    return True
            if time.monotonic() > deadline:
                raise self.start_error(
                    f"{self.name}: the server did not answer within {timeout:g} s:\n"
                    + self.log_tail()
                )
            time.sleep(0.05)
        return False

    @contextlib.contextmanager
    def profiling(self, label: str | None = None) -> Iterator[None]:
        """Sample the server with py-spy while the block runs (only with ``--profile``)."""
        if PROFILE_DIR is None:
            yield
            return
        py_spy = Path(sys.executable).with_name("py-spy")
        if not py_spy.exists():
            print("  (py-spy is not installed in this environment: no profile)", file=sys.stderr)
            yield
            return
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        path = PROFILE_DIR / f"{label or self.name}.txt"
        profiler = subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(path),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # let py-spy attach
        try:
            yield
        finally:
            profiler.send_signal(signal.SIGINT)
            try:
                profiler.wait(30)
            except subprocess.TimeoutExpired:
                profiler.kill()
                profiler.wait()
            print(
                f"  server profile: {path} (python -m bench.profile_summary {path})",
                file=sys.stderr,
            )

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a clean shutdown: the extension's stop_extension runs); SIGKILL after
        ``timeout``. Returns the exit status (None if it was never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.peak_rss_bytes = peak_rss(self.process.pid)
            self.session.close()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def terminate(self, timeout: float = 90.0) -> int:
        """SIGTERM, and wait for the exit status; raise :class:`ServerError` (the server is then
        left running: :meth:`stop` or :meth:`kill` it) if it does not exit within ``timeout``."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ServerError(
                f"{self.name}: the server did not exit within {timeout:g} s of SIGTERM\n"
                + self.log_tail()
            ) from None
        self._close_log()
        return code

    def kill(self) -> None:
        """SIGKILL: the server dies without a chance to clean up (a crash, an OOM kill)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def cleanup(self) -> None:
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if BYTECODE_CACHE is not None:
                # The bytecode of this server's benchjobs.py, cached under its temp dir's path.
                shutil.rmtree(
                    BYTECODE_CACHE / self.tmp.relative_to(self.tmp.anchor), ignore_errors=True
                )

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        if exc[0] is None:
            self.cleanup()
        else:
            print(f"  (server files kept in {self.tmp} for inspection)", file=sys.stderr)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------ HTTP

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"token {self.token}"
        session.trust_env = False  # no proxies for 127.0.0.1
        return session

    def url(self, path: str) -> str:
        return f"{self.base}{API}/{path.lstrip('/')}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        session: requests.Session | None = None,
        expect: tuple[int, ...] = (200, 201, 204),
        **kw: Any,
    ) -> Any:
        s = session or self.session
        reply = s.request(method, self.url(path), json=body, timeout=kw.pop("timeout", 60), **kw)
        if reply.status_code not in expect:
            raise ApiError(f"{method} {path} -> {reply.status_code}: {reply.text[:500]}")
        return reply.json() if reply.content else None

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body if body is not None else {}, **kw)

    def register(self, name: str, target: str, **fields: Any) -> Any:
        return self.post("jobs", {"name": name, "kind": "python", "target": target, **fields})


class RssSampler:
    """Samples the processes below ``pid`` every ``interval`` s: the peak of their summed RSS,
    and the largest peak (VmHWM) any one of them reached."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.peak_children_total = 0
        self.peak_child = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            import psutil

            proc = psutil.Process(self.pid)
        except Exception:
            return
        while not self._stop.wait(self.interval):
            try:
                total = 0
                for child in proc.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                        self.peak_child = max(self.peak_child, peak_rss(child.pid) or 0)
                    except Exception:
                        pass
                self.peak_children_total = max(self.peak_children_total, total)
            except Exception:
                return
