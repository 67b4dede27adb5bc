"""What runs inside a job's process: ``python -m jobext.job.runner``.

The server hands over the run in ``JOBEXT_RUN_SPEC`` (JSON; ``JOBEXT_RUN_SPEC_FILE`` names a file
holding it when it is too large for the environment) and two pipes:

* the event pipe (``JOBEXT_EVENT_FD``), one frame per line: ``1<text>`` is a line of stdout,
  ``2<text>`` a line of stderr, ``{...}`` a JSON message (progress, step, log record, result,
  paused, end). Python-level output goes through it so that print, logging and progress keep
  their order; writes to the raw file descriptors 1 and 2 (C code, child processes) go to
  separate pipes that the server reads as stdout and stderr.
* the control pipe (``JOBEXT_CONTROL_FD``): ``pause``, ``resume`` and ``stop`` lines. Its end of
  file means the server is gone, and the job ends its whole process group rather than run on
  unsupervised.

Frames are buffered and written every ``FLUSH_INTERVAL`` seconds or once 64 KiB have gathered.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import signal
import sys
import threading

from jobext.job import api as context

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from typing import Any


FLUSH_INTERVAL = 0.02
_FLUSH_BYTES = 64 * 1024
_MAX_BUFFER = 128 * 1024
TRACEBACK_TAIL = 4000


class Channel:
    """Both pipes to the server, and the pause/stop flags the control pipe sets."""

    def __init__(self, event_fd: int, control_fd: int, result_dir: str):
        self._event_fd = event_fd
        self._control_fd = control_fd
        self._result_dir = result_dir
        self._buffer: list[bytes] = []
        self._size = 0
        self._cond = threading.Condition()
        self._closed = False
        self._resume = threading.Event()
        self._resume.set()
        self.pause_requested = False
        self.stop_requested = False
        self._flusher = threading.Thread(target=self._flush_loop, name="jobext-flush", daemon=True)
        self._flusher.start()
        threading.Thread(target=self._control_loop, name="jobext-control", daemon=True).start()

    @property
    def result_dir(self) -> str:
        return self._result_dir

    # -- to the server

    def write_frame(self, frame: bytes) -> None:
        with self._cond:
            while self._size > _MAX_BUFFER and not self._closed:
                self._cond.wait(0.1)
            self._buffer.append(frame)
            self._size += len(frame)
            if self._size >= _FLUSH_BYTES:
                self._cond.notify_all()

    def send(self, message: dict[str, Any]) -> None:
        self.write_frame(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    def flush(self) -> None:
        with self._cond:
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._size = 0
            self._cond.notify_all()
            self._write_all(data)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._event_fd, view)
            except BrokenPipeError:
                _server_gone()
                return
            view = view[written:]

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                if self._size < _FLUSH_BYTES:
                    self._cond.wait(FLUSH_INTERVAL)
                if self._closed:
                    return
            self.flush()

    def close(self) -> None:
        """Write what is left, after the flush thread's last write (one writer at the end,
        so the last frames keep their order)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._flusher is not threading.current_thread():
            self._flusher.join(5.0)
        self.flush()

    def hang_up(self) -> None:
        """Close the event pipe and the standard streams: with its ``end`` sent and these
        closed, the run is over for the server, which need not wait for the exit (the
        teardown of the process's memory, the fork server's report). The control pipe stays
        open: its thread may be reading it."""
        for fd in (self._event_fd, 1, 2):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- from the server

    def _control_loop(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self._control_fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                _server_gone()
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._command(line.decode().strip())

    def _command(self, command: str) -> None:
        if command == "pause":
            self.pause_requested = True
            self._resume.clear()
        elif command == "resume":
            self.pause_requested = False
            self._resume.set()
        elif command == "stop":
            self.stop_requested = True
            self._resume.set()

    def checkpoint(self) -> None:
        if self.stop_requested:
            raise context.JobStopped("stop requested")
        if not self.pause_requested:
            return
        self.send({"t": "paused"})
        self.flush()
        while not self._resume.wait(0.2):
            pass
        if self.stop_requested:
            raise context.JobStopped("stop requested")
        self.send({"t": "resumed"})


def _server_gone() -> None:
    # Nobody is left to record what the job does: end it and everything it started.
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(137)


class LineWriter(io.TextIOBase):
    """A text stream that sends each complete line to the channel as a log frame."""

    def __init__(self, channel: Channel, prefix: bytes):
        self._channel = channel
        self._prefix = prefix
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def write(self, text: str) -> int:
        with self._lock:
            if "\n" not in text:
                self._partial += text
                return len(text)
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            for line in lines:
                self._channel.write_frame(
                    self._prefix + line.encode("utf-8", "backslashreplace") + b"\n"
                )
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._partial:
                frame = self._prefix + self._partial.encode("utf-8", "backslashreplace") + b"\n"
                self._partial = ""
                self._channel.write_frame(frame)

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1 if self._prefix == b"1" else 2


class ChannelHandler(logging.Handler):
    """Sends ``logging`` records to the run's log with their level."""

    def __init__(self, channel: Channel):
        super().__init__(logging.DEBUG)
        self._channel = channel
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            text = str(record.msg)
        for line in text.split("\n"):
            self._channel.send({"t": "log", "level": record.levelname, "text": line})


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise context.JobStopped("stopped by SIGTERM")


def _error_text(exc: BaseException) -> tuple[str, str]:
    import traceback

    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return summary, tb[-TRACEBACK_TAIL:]


def execute(spec: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """Run the job the spec describes; return the ``end`` message."""
    try:
        kind = importlib.import_module(f"jobext.kinds.{spec['kind']}")
        end: dict[str, Any] = kind.execute(spec, channel)
        return end
    except context.JobStopped as exc:
        return {"t": "end", "status": "stopped", "error": str(exc)}
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 0:
            return {"t": "end", "status": "succeeded", "exit_code": 0}
        return {"t": "end", "status": "failed", "exit_code": code, "error": f"exit({exc.code!r})"}
    except BaseException as exc:
        summary, tb = _error_text(exc)
        return {"t": "end", "status": "failed", "error": summary, "traceback": tb}


def main() -> None:
    if "JOBEXT_RUN_SPEC" in os.environ:
        spec = json.loads(os.environ["JOBEXT_RUN_SPEC"])
    else:
        with open(os.environ["JOBEXT_RUN_SPEC_FILE"], encoding="utf-8") as handle:
            spec = json.load(handle)
    channel = Channel(
        int(os.environ["JOBEXT_EVENT_FD"]),
        int(os.environ["JOBEXT_CONTROL_FD"]),
        spec["result_dir"],
    )
    context._install(channel)
    context._batch = spec.get("batch")
    signal.signal(signal.SIGTERM, _on_sigterm)
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    out, err = LineWriter(channel, b"1"), LineWriter(channel, b"2")
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    root = logging.getLogger()
    root.handlers[:] = [ChannelHandler(channel)]
    root.setLevel(logging.INFO)

    end = execute(spec, channel)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out.flush()
    err.flush()
    channel.send(end)
    channel.close()
    channel.hang_up()
    os._exit(0 if end["status"] == "succeeded" else 1)


if __name__ == "__main__":
    main()
