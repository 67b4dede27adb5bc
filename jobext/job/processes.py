"""Whether a process, not necessarily one's own child, is alive (light enough for a job's
process: the notebook handshake asks it of a forked kernel, the server of its peers)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts; so does a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_lives(pid: int) -> bool:
    """Whether process ``pid`` runs: a zombie, ended but not yet reaped by its parent, does
    not (read from ``/proc``; where there is none, :func:`pid_alive`)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except OSError:
        return pid_alive(pid)
