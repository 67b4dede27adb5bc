"""The fork server ("zygote"): ``python -m jobext.job.zygote``, started by the local executor.

Starting a Python interpreter and importing the runner costs tens of milliseconds per run, and a
notebook run's nbclient, nbformat and jupyter_client cost hundreds more. The zygote pays that
once: it imports the runner and what each kind preloads (``preload()`` of ``jobext.kinds.*``,
never a job's own code), then forks one child per run. The child becomes exactly what
``python -m jobext.job.runner`` would have been: a new session and process group, stdin from
/dev/null, stdout and stderr on the run's pipes, the run's environment and working directory,
fresh import caches (so a module changed since the zygote started is read anew), and then the
runner's ``main()``.

The next run's child is forked ahead (the *spare*): it has left the zygote (its own session, no
file of the zygote's) and waits on a socket pair of its own, so a request only hands it the
run and its pipes; the zygote then forks the next spare. A spare that is gone when a request
comes is replaced by a fork on the spot; a spare whose zygote ends sees its socket close and
exits.

Protocol, on the ``SOCK_SEQPACKET`` socket named by ``JOBEXT_ZYGOTE_FD`` (one JSON object per
packet):

* zygote → server: ``{"t": "ready", "pid": ...}`` once preloaded; ``{"t": "started", "id":
  ..., "pid": ...}`` or ``{"t": "error", "id": ..., "error": ...}`` for each request; ``{"t":
  "exit", "pid": ..., "code": ...}`` when a child ends (``code`` as ``Popen.returncode``: negative
  for a signal).
* server → zygote: ``{"id": ..., "env": {...}, "cwd": ..., "uuid": ...}`` with four file
  descriptors attached (event pipe's write end, control pipe's read end, stdout, stderr). The
  zygote closes its copies right after the fork, so no child ever holds another run's pipes.

The end of the socket means the server is gone: the zygote exits (its children go on; their
control pipes tell them when the server is gone). It holds no database connection and no file
besides the socket, the wake-up pipe and its standard streams.

The JOBEXT_RUN_UUID sweep reads ``/proc/<pid>/environ``, which shows the environment a process
was *exec*'d with, not later changes: so the zygote is exec'd with a slot,
``JOBEXT_ZYGOTE_SLOT=<36 characters>``, and each child writes ``JOBEXT_RUN_UUID=<its uuid>``
over it in place (NUL-padded) before anything else. A process the job forks without exec (a
daemon) carries it too, and the zygote itself carries no run's uuid.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys

from jobext.job import runner

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: The variable holding the slot, and its value: a uuid's length.
SLOT_VAR = "JOBEXT_ZYGOTE_SLOT"
PLACEHOLDER = "jobext-zygote-0000000000000000000000"
_SLOT = f"{SLOT_VAR}={PLACEHOLDER}".encode()
_UUID_VAR = b"JOBEXT_RUN_UUID="
#: Kinds whose modules the zygote imports (with what their ``preload()`` imports).
KINDS = ("python", "shell", "query", "notebook")
MAX_PACKET = 1 << 20


def _slot_address() -> int | None:
    """Where the exec'd environment holds the slot (None: not found)."""
    libc = ctypes.CDLL(None)
    environ = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
    index = 0
    while environ[index]:
        address: int = environ[index]  # type: ignore[assignment]
        if ctypes.string_at(address) == _SLOT:
            return address
        index += 1
    return None


def _uuid(message: dict[str, Any]) -> bytes:
    """The run's uuid in a request (checked against the slot before the fork)."""
    return str(message["uuid"]).encode()


def _stamp(address: int, uuid: bytes) -> None:
    """Write ``JOBEXT_RUN_UUID=<uuid>`` over the slot (in the child)."""
    entry = _UUID_VAR + uuid
    ctypes.memmove(address, entry.ljust(len(_SLOT), b"\0"), len(_SLOT))


def preload(kinds: tuple[str, ...] = KINDS) -> list[str]:
    """Import the kind modules and what they preload; return the problems met (a kind whose
    libraries are missing still runs, importing them itself)."""
    problems = []
    for kind in kinds:
        try:
            module = importlib.import_module(f"jobext.kinds.{kind}")
            hook = getattr(module, "preload", None)
            if hook is not None:
                hook()
        except Exception as exc:
            problems.append(f"{kind}: {type(exc).__name__}: {exc}")
    return problems


class Zygote:
    """The fork loop. ``become(message, fds)`` turns a child into what a request asks for (a
    run's process here, a kernel in ``jobext.job.kernel_zygote``); each request carries ``fds``
    file descriptors; ``check(message)`` refuses a request before anything is forked."""

    def __init__(
        self,
        sock: socket.socket,
        become: Callable[[dict[str, Any], list[int]], None],
        *,
        fds: int,
        check: Callable[[dict[str, Any]], None] | None = None,
    ):
        self.sock = sock
        self.become = become
        self.fds = fds
        self.check = check
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        #: The next run's process, forked ahead: its pid and the socket it waits on.
        self.spare: tuple[int, socket.socket] | None = None

    def send(self, message: dict[str, Any]) -> None:
        self.sock.send(json.dumps(message).encode())

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        self.make_spare()
        self.send({"t": "ready", "pid": os.getpid()})
        while True:
            try:
                readable, _, _ = select.select([self.sock.fileno(), self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                while True:
                    try:
                        if not os.read(self.wake_r, 4096):
                            break
                    except BlockingIOError:
                        break
            self.reap()
            if self.sock.fileno() in readable and not self.request():
                return

    def request(self) -> bool:
        """Serve one request; False when the server is gone."""
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_PACKET, self.fds)
        except InterruptedError:
            return True
        if not data:
            return False
        message: dict[str, Any] = {}
        try:
            message = json.loads(data)
            if len(fds) != self.fds:
                raise ValueError(f"expected {self.fds} file descriptors, got {len(fds)}")
            pid = self.fork(message, fds)
        except Exception as exc:
            self.send({"t": "error", "id": message.get("id"), "error": f"{exc}"})
        else:
            self.send({"t": "started", "id": message["id"], "pid": pid})
        finally:
            for fd in fds:
                os.close(fd)
        self.make_spare()
        return True

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.send({"t": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})

    def fork(self, message: dict[str, Any], fds: list[int]) -> int:
        if self.check is not None:
            self.check(message)
        spare, self.spare = self.spare, None
        if spare is not None:
            pid, sock = spare
            try:
                socket.send_fds(sock, [json.dumps(message).encode()], fds)
                return pid
            except OSError:
                pass  # the spare is gone (its exit is reaped and reported): fork one now
            finally:
                sock.close()
        pid = os.fork()
        if pid:
            return pid

        def direct() -> None:
            self.leave()
            self.become(message, fds)

        self._in_child(direct)
        return 0  # not reached

    def make_spare(self) -> None:
        """Fork the next child ahead of its request: it leaves the zygote (its own session, the
        zygote's files closed) and waits on a socket of its own for the request."""
        if self.spare is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError as exc:
            ours.close()
            theirs.close()
            print(f"jobext zygote: cannot fork a spare process: {exc}", file=sys.stderr)
            return
        if pid:
            theirs.close()
            self.spare = (pid, ours)
            return
        ours.close()
        self._in_child(lambda: self._wait_as_spare(theirs))

    def _wait_as_spare(self, sock: socket.socket) -> None:
        self.leave()
        data, fds, _flags, _addr = socket.recv_fds(sock, MAX_PACKET, self.fds)
        sock.close()
        if not data:
            os._exit(0)  # the zygote is gone: no request will come
        self.become(json.loads(data), fds)

    @staticmethod
    def _in_child(become: Callable[[], object]) -> None:
        try:
            become()
        except BaseException as exc:
            # Nothing is wired up yet to report to: the server sees the exit code.
            try:
                os.write(2, f"jobext zygote: cannot start the child: {exc!r}\n".encode())
            finally:
                os._exit(70)
        os._exit(0)  # what the child became has ended

    def leave(self) -> None:
        """In a child: drop what is the zygote's (its signal handling, socket, wake-up pipe
        and any spare's socket) and lead a new session."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.sock.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        if self.spare is not None:
            self.spare[1].close()
        os.setsid()


def become_process(message: dict[str, Any], stdio: tuple[int, int, int], main: Any) -> None:
    """In a child: take the request's standard streams, environment and working directory as
    ``python -m <main>`` would have started with them, and make ``main`` the ``__main__``."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    for fd in set(stdio):
        if fd > 2:
            os.close(fd)
    env = message["env"]
    # The child's environment is mostly the zygote's own: change only what differs (each
    # change is a putenv or unsetenv).
    for name in [n for n in os.environ if n not in env]:
        del os.environ[name]
    for name, value in env.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
    os.chdir(message["cwd"])
    # The working directory first on the path, and no stale view of directories whose modules
    # may have changed since the zygote started.
    sys.path[0] = os.getcwd()
    sys.argv = [main.__file__ or main.__name__]
    sys.modules["__main__"] = main
    importlib.invalidate_caches()


def become_run(slot_address: int, message: dict[str, Any], fds: list[int]) -> None:
    """In the child: turn into the run's process, then run it."""
    _stamp(slot_address, _uuid(message))
    event_w, control_r, out_w, err_w = fds
    message = {**message, "env": dict(message["env"])}
    message["env"]["JOBEXT_EVENT_FD"] = str(event_w)
    message["env"]["JOBEXT_CONTROL_FD"] = str(control_r)
    become_process(message, (os.open(os.devnull, os.O_RDONLY), out_w, err_w), runner)
    runner.main()


def _check_uuid(message: dict[str, Any]) -> None:
    if len(_uuid(message)) != len(PLACEHOLDER):
        raise ValueError("the run's uuid does not fit the placeholder")


def serve(preload: Callable[[], list[str]], make: Callable[[socket.socket], Zygote | None]) -> None:
    """A fork server's life: take the socket the server passed, preload, then fork on request
    until the server goes. ``make`` builds the fork loop (None: this zygote cannot serve, and
    has told the server why)."""
    sock = socket.socket(fileno=int(os.environ.pop("JOBEXT_ZYGOTE_FD")))
    # Ctrl-C in the server's terminal is for the server, which ends the zygote itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zygote = make(sock)
    if zygote is None:
        return
    for problem in preload():
        print(f"jobext zygote: preload {problem}", file=sys.stderr)
    gc.collect()
    # What the zygote imported is shared with every child: keep the collector off it, so the
    # children's pages stay shared.
    gc.freeze()
    zygote.serve()


def _run_zygote(sock: socket.socket) -> Zygote | None:
    address = _slot_address()
    if address is None:
        sock.send(json.dumps({"t": "unusable", "error": f"no {SLOT_VAR} slot"}).encode())
        return None
    # Out of os.environ (so no child inherits it); the bytes stay where the kernel shows them.
    os.environ.pop(SLOT_VAR)
    become = functools.partial(become_run, address)
    return Zygote(sock, become, fds=4, check=_check_uuid)


def main() -> None:
    serve(lambda: preload(tuple(sys.argv[1:]) or KINDS), _run_zygote)


if __name__ == "__main__":
    main()
