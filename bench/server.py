"""A real ``jupyter server`` subprocess with jobext on a database of its own, and an HTTP client.

Everything the server writes (config, data, runtime files, the SQLite database, results) lives in
one temporary directory, so a benchmark never touches the user's home or another server.
"""

from __future__ import annotations

import contextlib
import json
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


def jupyter_command() -> list[str]:
    """``<venv>/bin/jupyter server``, with the interpreter running the benchmarks."""
    exe = Path(sys.executable).with_name("jupyter")
    if not exe.exists():
        found = shutil.which("jupyter")
        if found is None:
            raise RuntimeError("no 'jupyter' executable next to the interpreter or on PATH")
        exe = Path(found)
    return [str(exe), "server"]


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


class JupyterServer:
    """Start with :meth:`start`, talk with :meth:`get`/:meth:`post`, end with :meth:`stop`.

    ``db_file`` names a prepared SQLite database to use (it is used in place, so hand over a
    copy); without it the server creates ``jobext.db`` in the temp dir.
    """

    def __init__(
        self,
        *,
        name: str = "bench",
        jobs_module: str | None = None,
        db_file: Path | None = None,
        extra_args: list[str] | None = None,
        workdir: Path | None = None,
    ):
        self.name = name
        self.tmp = Path(workdir or tempfile.mkdtemp(prefix=f"jobext-bench-{name}-"))
        self._own_tmp = workdir is None
        self.root = self.tmp / "root"
        self.db_file = db_file or (self.tmp / "jobext.db")
        self.results = self.tmp / "results"
        self.token = secrets.token_hex(16)
        self.port = 0
        self.jobs_module = jobs_module
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.tmp / "server.log"
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

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var, sub in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("IPYTHONDIR", "ipython"),
        ):
            path = self.tmp / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env.pop("JUPYTER_PREFER_ENV_PATH", None)
        env["PYTHONUNBUFFERED"] = "1"
        if BYTECODE_CACHE is not None:
            # Job processes import jobext afresh for every run; an installed package has its
            # bytecode compiled, so give the server and its jobs a bytecode cache even where the
            # environment disables writing one (PYTHONDONTWRITEBYTECODE). It lives outside the
            # source tree (PYTHONPYCACHEPREFIX), in bench/.cache/.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(BYTECODE_CACHE)
        return env

    def start(self, timeout: float = 60.0) -> JupyterServer:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.jobs_module is not None:
            (self.root / "benchjobs.py").write_text(self.jobs_module)
        env = self.env()
        config_dir = Path(env["JUPYTER_CONFIG_DIR"])
        (config_dir / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"jobext": True}}}, indent=2)
        )
        self.port = free_port()
        cmd = [
            *jupyter_command(),
            "--allow-root",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--JobExtApp.db_url=sqlite:///{self.db_file}",
            f"--JobExtApp.results_dir={self.results}",
            "--ServerApp.open_browser=False",
            *self.extra_args,
        ]
        self._log_file = self.log_path.open("wb")
        began = time.perf_counter()
        self.process = subprocess.Popen(
            cmd,
            cwd=str(self.tmp),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter server exited with {self.process.returncode} while starting:\n"
                    + self.log_tail()
                )
            try:
                reply = self.session.get(f"{self.base}{API}/stats", timeout=2)
                if reply.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "jupyter server did not answer /stats in time:\n" + self.log_tail()
                )
            time.sleep(0.05)
        self.startup_s = time.perf_counter() - began
        return self

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

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a clean shutdown: the extension's stop_extension runs); SIGKILL after ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.peak_rss_bytes = peak_rss(self.process.pid)
            self.session.close()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
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
