"""The kernel fork server: ``python -m jobext.job.kernel_zygote``, started by the kernel pool.

Starting an IPython kernel costs about half a second of CPU, most of it importing ipykernel,
IPython, the debugger (debugpy) and what they import; the kernel pool starts one for every
notebook run. This fork server imports all that once and forks each kernel, which then costs
what is left: reading its connection file, binding its sockets and building its shell (about a
tenth). It serves the same protocol as the run fork server (``jobext.job.zygote``), with two
file descriptors per request (the kernel's stdout and stderr) and the request's ``argv``: the
arguments that follow ``python -m ipykernel_launcher`` in the kernelspec.

The child becomes what ``python -m ipykernel_launcher <argv>`` would have been: its own session
and process group, stdin from /dev/null, the kernel's environment and working directory, fresh
import caches, and the kernel app. Its parent is this fork server, so it is told to watch that
process (``--IPKernelApp.parent_handle``): when the server ends, the fork server ends, and so do
its kernels, as kernels end when their server does.

A module preloaded here reads the environment at import as the fork server had it, not as the
kernel's request has it; so only kernelspecs that set no environment of their own are forked
(``jobext.kinds.kernel_fork`` decides).
"""

from __future__ import annotations

import os
import socket
import sys

from jobext.job import zygote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: What an ipykernel kernel imports on its way to ready, heaviest first.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "sqlite3",
)


def preload() -> list[str]:
    """Import what a kernel imports; return the problems met (a kernel then imports the rest
    itself). No zmq context, thread or event loop exists before a fork."""
    import importlib

    problems = []
    # debugpy warns at import that frozen modules may hide breakpoints. Imported here, the
    # warning would go to the server's log at each start of this fork server and never to a
    # kernel's: it is kept quiet.
    quiet = "PYDEVD_DISABLE_FILE_VALIDATION"
    had = os.environ.get(quiet)
    os.environ[quiet] = "1"
    try:
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception as exc:
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        if had is None:
            del os.environ[quiet]
        else:
            os.environ[quiet] = had
    return problems


def become_kernel(message: dict[str, Any], fds: list[int]) -> None:
    """In the child: turn into the kernel, then run it until it is shut down."""
    import ipykernel_launcher  # type: ignore[import-untyped]
    from ipykernel import kernelapp

    out_w, err_w = fds
    message = {**message, "env": {**message["env"], "JPY_PARENT_PID": str(os.getppid())}}
    stdio = (os.open(os.devnull, os.O_RDONLY), out_w, err_w)
    zygote.become_process(message, stdio, ipykernel_launcher)
    sys.argv += message["argv"]
    # ipykernel reads JPY_PARENT_PID when it is imported, which was in the fork server: say
    # which parent to watch on the command line instead.
    parent = f"--IPKernelApp.parent_handle={os.getppid()}"
    kernelapp.launch_new_instance(argv=[*message["argv"], parent])


def _kernel_zygote(sock: socket.socket) -> zygote.Zygote:
    # The slot is for runs' uuids (the sweep); a kernel carries none.
    os.environ.pop(zygote.SLOT_VAR, None)
    return zygote.Zygote(sock, become_kernel, fds=2)


def main() -> None:
    zygote.serve(preload, _kernel_zygote)


if __name__ == "__main__":
    main()
