"""The local executor: each run is a ``jobext.job.runner`` process in its own session and process
group on this host, forked by a fork server (``jobext.job.zygote``) when it can serve, else
started as ``python -m jobext.job.runner``. Each family of kinds has a fork server of its own
(:data:`FORK_FAMILIES`), which preloads only what those kinds need.

Pausing a shell job stops its process group with SIGSTOP (a command line has no checkpoints);
pausing a Python job asks it to halt at its next ``jobext.checkpoint()``. A graceful stop sends
``stop`` on the control pipe and SIGTERM to the group; :meth:`kill` sends SIGKILL to the group and
to every process that still carries the run's ``JOBEXT_RUN_UUID``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from typing import Any

from jobext.executors.base import Executor, ExecutorEvents, LogBudget, LogLine, Outcome, RunSpec
from jobext.executors.sweep import Sweeper
from jobext.executors.zygote import ForkServer

log = logging.getLogger(__name__)

#: Kinds whose runs one fork server forks. Forking a process and ending it cost in proportion to
#: its memory (on this project's machine about 1.7 ms for a fork server holding the runner, 5.3
#: ms for one that also holds nbclient, zmq and SQLAlchemy), so python and shell runs are forked
#: from a fork server that holds none of the query and notebook kinds' libraries.
FORK_FAMILIES: tuple[tuple[str, ...], ...] = (("python", "shell"), ("query", "notebook"))

MAX_LINE = 100_000
#: Bytes parsed in one turn of the loop (a flood is read a slice at a time, the loop handed
#: back between slices).
_READ_SIZE = 1 << 14
#: How the runner's ``logging`` frames begin (``json.dumps`` of ``{"t": "log", ...}``).
_LOG_FRAME = b'{"t": "log",'
#: Larger specs travel in a file: an environment variable holds at most 128 KiB on Linux.
_SPEC_ENV_LIMIT = 64 * 1024


class _LineSplitter:
    """Turns chunks of bytes into complete lines, keeping the unfinished tail."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self._tail + chunk).split(b"\n")
        self._tail = lines.pop()
        return lines

    def rest(self) -> list[bytes]:
        tail, self._tail = self._tail, b""
        return [tail] if tail else []


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if text.endswith("\r"):
        text = text[:-1]
    if len(text) > MAX_LINE:
        text = text[:MAX_LINE] + f" … [{len(text) - MAX_LINE} characters cut]"
    return text


async def _reader(fd: int) -> asyncio.StreamReader:
    """An asyncio stream over the read end of a pipe."""
    reader = asyncio.StreamReader(limit=1 << 16)
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0)
    )
    return reader


class _Process:
    def __init__(
        self,
        spec: RunSpec,
        pid: int,
        exited: asyncio.Future[int | None],
        control_fd: int,
        events: ExecutorEvents,
        budget: LogBudget,
    ):
        self.spec = spec
        self.events = events
        self.budget = budget
        #: The run's process leads its own session and process group.
        self.pid = pid
        #: Its exit code (negative: killed by that signal; None: unknown).
        self.exited = exited
        self.control_fd = control_fd
        self.end: dict[str, Any] | None = None
        self.readers: list[asyncio.Task[None]] = []
        self.waiter: asyncio.Task[None] | None = None
        self.suspended = False

    @property
    def pgid(self) -> int:
        return self.pid

    def log(self, lines: list[LogLine]) -> None:
        """Pass ``lines`` on, within the run's log budget."""
        kept, truncated = self.budget.admit(lines)
        if kept:
            self.events.on_logs(self.spec.run_id, kept)
        if truncated is not None:
            self.events.on_message(self.spec.run_id, truncated)

    def send(self, command: str) -> None:
        try:
            os.write(self.control_fd, command.encode() + b"\n")
        except OSError:
            pass

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)


class LocalExecutor(Executor):
    """Runs each job in a subprocess of the Jupyter server."""

    name = "local"

    def __init__(
        self,
        *,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        fork_server: bool = True,
        max_log_bytes: int | None = None,
    ):
        self.python = python
        self.max_log_bytes = max_log_bytes
        self.extra_env = env or {}
        self._procs: dict[int, _Process] = {}
        self.sweeper = Sweeper()
        #: The fork server of each kind's runs (none: every run is started).
        self.fork_servers: dict[str, ForkServer] = {}
        if fork_server:
            env = {**os.environ, **self.extra_env}
            for family in FORK_FAMILIES:
                server = ForkServer(python, env, args=family)
                self.fork_servers.update(dict.fromkeys(family, server))

    async def start(self, spec: RunSpec, events: ExecutorEvents) -> int | None:
        # Plain pipes, not asyncio's: asyncio waits for a process's pipes to close before it
        # reports the exit, and a child the job left behind would hold them open.
        event_r, event_w = os.pipe()
        control_r, control_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update(
            JOBEXT_RUN_ID=str(spec.run_id),
            JOBEXT_RUN_UUID=spec.uuid,
            JOBEXT_JOB=spec.job,
            JOBEXT_EVENT_FD=str(event_w),
            JOBEXT_CONTROL_FD=str(control_r),
            PYTHONUNBUFFERED="1",
        )
        payload = json.dumps(spec.payload())
        if len(payload) < _SPEC_ENV_LIMIT:
            env["JOBEXT_RUN_SPEC"] = payload
        else:
            spec.result_dir.mkdir(parents=True, exist_ok=True)
            spec_file = spec.result_dir / ".spec.json"
            spec_file.write_text(payload)
            env["JOBEXT_RUN_SPEC_FILE"] = str(spec_file)
        child_ends = (event_w, control_r, out_w, err_w)
        try:
            started = None
            fork_server = self.fork_servers.get(spec.kind)
            if fork_server is not None:
                started = await fork_server.spawn(env, spec.cwd, spec.uuid, child_ends)
            if started is None:
                started = await self._spawn(env, spec.cwd, child_ends)
        except BaseException:
            for fd in (event_r, control_w, out_r, err_r):
                os.close(fd)
            raise
        finally:
            # The child holds its own copies now.
            for fd in child_ends:
                with contextlib.suppress(OSError):
                    os.close(fd)
        os.set_blocking(control_w, False)
        pid, exited = started
        proc = _Process(spec, pid, exited, control_w, events, LogBudget(self.max_log_bytes))
        self._procs[spec.run_id] = proc
        loop = asyncio.get_running_loop()
        proc.readers = [
            loop.create_task(self._read_events(proc, await _reader(event_r), events)),
            loop.create_task(self._read_raw(proc, await _reader(out_r), "stdout", events)),
            loop.create_task(self._read_raw(proc, await _reader(err_r), "stderr", events)),
        ]
        proc.waiter = loop.create_task(self._wait(proc, events))
        return pid

    async def _spawn(
        self, env: dict[str, str], cwd: str, fds: tuple[int, int, int, int]
    ) -> tuple[int, asyncio.Future[int | None]]:
        """Start ``python -m jobext.job.runner`` directly (the fork server's fallback)."""
        event_w, control_r, out_w, err_w = fds
        process = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            "jobext.job.runner",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            pass_fds=(event_w, control_r),
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        exited: asyncio.Future[int | None] = asyncio.ensure_future(process.wait())
        return process.pid, exited

    async def _read_events(
        self, proc: _Process, reader: asyncio.StreamReader, events: ExecutorEvents
    ) -> None:
        splitter = _LineSplitter()
        run_id = proc.spec.run_id
        budget = proc.budget
        while True:
            chunk = await reader.read(_READ_SIZE)
            frames = splitter.feed(chunk) if chunk else splitter.rest()
            lines: list[LogLine] = []
            for frame in frames:
                head = frame[:1]
                if budget.exhausted and (head in (b"1", b"2") or frame.startswith(_LOG_FRAME)):
                    # Past the log's limit: dropped before any decoding.
                    budget.drop(len(frame), 1)
                    continue
                if head == b"1":
                    lines.append(("stdout", None, _text(frame[1:])))
                elif head == b"2":
                    lines.append(("stderr", None, _text(frame[1:])))
                elif head == b"{":
                    try:
                        message = json.loads(frame)
                    except ValueError:
                        lines.append(("stderr", None, _text(frame)))
                        continue
                    if message.get("t") == "log":
                        lines.append(("log", message.get("level"), _text(message["text"].encode())))
                        continue
                    if lines:
                        proc.log(lines)
                        lines = []
                    if message.get("t") == "end":
                        proc.end = message
                    else:
                        events.on_message(run_id, message)
                elif frame:
                    lines.append(("stderr", None, _text(frame)))
            if lines:
                proc.log(lines)
            if not chunk:
                return
            # A flood fills the reader's buffer faster than it is read, and reading a full
            # buffer does not yield: hand the loop back between chunks; and leave the rest in
            # the pipe while the lines read wait to be written.
            await asyncio.sleep(0)
            await events.log_room()

    async def _read_raw(
        self,
        proc: _Process,
        stream: asyncio.StreamReader,
        name: str,
        events: ExecutorEvents,
    ) -> None:
        splitter = _LineSplitter()
        while True:
            chunk = await stream.read(_READ_SIZE)
            if proc.budget.exhausted:
                proc.budget.drop(len(chunk), chunk.count(b"\n"))
            else:
                raw = splitter.feed(chunk) if chunk else splitter.rest()
                if raw:
                    proc.log([(name, None, _text(line)) for line in raw])
            if not chunk:
                return
            await asyncio.sleep(0)  # as in _read_events
            await events.log_room()

    async def _wait(self, proc: _Process, events: ExecutorEvents) -> None:
        returncode = await self._ended(proc)
        # Whatever the job left behind in its group ends with it, so no pipe stays open.
        proc.signal_group(signal.SIGKILL)
        _, pending = await asyncio.wait(proc.readers, timeout=5.0)
        if pending:
            await self.sweeper.sweep(proc.spec.uuid)
            _, pending = await asyncio.wait(pending, timeout=2.0)
            for task in pending:
                task.cancel()
        with contextlib.suppress(OSError):
            os.close(proc.control_fd)
        self._procs.pop(proc.spec.run_id, None)
        dropped = proc.budget.summary()
        if dropped is not None:
            events.on_logs(proc.spec.run_id, [dropped])
        events.on_exit(proc.spec.run_id, Outcome(returncode, proc.end))
        # Children that left the group (a new session, a daemon) still carry the run's uuid.
        await self.sweeper.sweep(proc.spec.uuid)

    async def _ended(self, proc: _Process) -> int | None:
        """The exit code, once the process has exited, or has sent its ``end`` and closed its
        pipes (the runner's last act before it exits with the code its end implies)."""
        pipes: asyncio.Future[Any] = asyncio.gather(*proc.readers, return_exceptions=True)
        either: list[asyncio.Future[Any]] = [proc.exited, pipes]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not proc.exited.done() and proc.end is not None:
            return 0 if proc.end.get("status") == "succeeded" else 1
        return await proc.exited

    def _get(self, run_id: int) -> _Process | None:
        return self._procs.get(run_id)

    def pause(self, run_id: int) -> None:
        proc = self._get(run_id)
        if proc is None:
            return
        if proc.spec.kind == "shell":
            proc.signal_group(signal.SIGSTOP)
            proc.suspended = True
            # A stopped group cannot say so itself.
            asyncio.get_running_loop().call_soon(self._report_paused, proc)
        else:
            proc.send("pause")

    def _report_paused(self, proc: _Process) -> None:
        if proc.suspended and proc.spec.run_id in self._procs:
            proc.events.on_message(proc.spec.run_id, {"t": "paused"})

    def resume(self, run_id: int) -> None:
        proc = self._get(run_id)
        if proc is None:
            return
        if proc.suspended:
            proc.suspended = False
            proc.signal_group(signal.SIGCONT)
        proc.send("resume")

    def stop(self, run_id: int) -> None:
        proc = self._get(run_id)
        if proc is None:
            return
        proc.send("stop")
        proc.signal_group(signal.SIGTERM)
        if proc.suspended:
            proc.suspended = False
            proc.signal_group(signal.SIGCONT)

    def kill(self, run_id: int) -> None:
        proc = self._get(run_id)
        if proc is None:
            return
        proc.signal_group(signal.SIGKILL)
        self.kill_leftovers(proc.spec.uuid)

    def kill_leftovers(self, uuid: str) -> None:
        self.sweeper.sweep(uuid)

    def running(self) -> list[int]:
        return list(self._procs)

    async def wait_all(self, timeout: float) -> None:
        waiters: list[asyncio.Future[Any]] = [
            p.waiter for p in self._procs.values() if p.waiter is not None
        ]
        if waiters:
            await asyncio.wait(waiters, timeout=timeout)
        await self.sweeper.wait(timeout)

    async def close(self) -> None:
        await self.sweeper.wait(5.0)
        for server in {id(s): s for s in self.fork_servers.values()}.values():
            await server.close()
