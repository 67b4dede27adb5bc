"""The local executor and its fork server, without a Jupyter server: real processes, a recorder in
place of the supervisor."""

from __future__ import annotations

import os
import signal
import textwrap
import uuid as uuid_mod
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually_async

from jobext.executors import LocalExecutor, Outcome, RunSpec
from jobext.executors.base import LogLine
from jobext.executors.sweep import kill_run_processes


class Recorder:
    """What the supervisor would hear."""

    def __init__(self) -> None:
        self.logs: dict[int, list[LogLine]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.exits: dict[int, Outcome] = {}

    def on_logs(self, run_id: int, lines: list[LogLine]) -> None:
        self.logs.setdefault(run_id, []).extend(lines)

    async def log_room(self) -> None:
        pass

    def on_message(self, run_id: int, message: dict[str, Any]) -> None:
        self.messages.setdefault(run_id, []).append(message)

    def on_exit(self, run_id: int, outcome: Outcome) -> None:
        self.exits[run_id] = outcome

    def stdout(self, run_id: int) -> list[str]:
        return [text for stream, _, text in self.logs.get(run_id, []) if stream == "stdout"]


JOBS = """
import os, sys, time

def facts():
    fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    print("pid", os.getpid(), "sid", os.getsid(0), "pgid", os.getpgrp())
    print("ppid", os.getppid())
    print("cwd", os.getcwd())
    print("path0", sys.path[0])
    print("uuid", os.environ["JOBEXT_RUN_UUID"])
    print("fds", len(fds))

def version():
    import jobmod
    print("version", jobmod.VERSION)

def daemon(seconds=60):
    # A grandchild that leaves the run's session and process group, without exec.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(seconds)
        os._exit(0)
    time.sleep(0.2)
    print("daemon started")

def sleep(seconds=60):
    print("sleeping", flush=True)
    time.sleep(seconds)
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "execjobs.py").write_text(textwrap.dedent(JOBS))
    (tmp_path / "jobmod.py").write_text("VERSION = 1\n")
    return tmp_path


_ids = iter(range(1, 1_000_000))


def spec(workdir: Path, target: str, args: dict[str, Any] | None = None) -> RunSpec:
    return RunSpec(
        run_id=next(_ids),
        uuid=str(uuid_mod.uuid4()),
        job="j",
        kind="python",
        target=target,
        args=args or {},
        result_dir=workdir / "results",
        cwd=str(workdir),
    )


async def run(executor: LocalExecutor, events: Recorder, run_spec: RunSpec) -> Outcome:
    await executor.start(run_spec, events)
    return await eventually_async(lambda: events.exits.get(run_spec.run_id))


async def ready(executor: LocalExecutor) -> None:
    """Start the fork server (a first run starts it and runs without it) and wait for it."""
    server = executor.fork_servers["python"]
    server.start()
    await eventually_async(lambda: server.ready, message="the fork server")


def facts(lines: list[str]) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in lines)


async def test_runs_are_forked_as_the_runner_would_be_started(workdir: Path) -> None:
    events = Recorder()
    plain = LocalExecutor(fork_server=False)
    forked = LocalExecutor()
    try:
        await ready(forked)
        zygote = forked.fork_servers["python"].pid
        seen = {}
        for name, executor in (("plain", plain), ("forked", forked)):
            run_spec = spec(workdir, "execjobs:facts")
            outcome = await run(executor, events, run_spec)
            assert outcome.returncode == 0, events.logs
            assert outcome.end == {"t": "end", "status": "succeeded", "exit_code": 0}
            got = facts(events.stdout(run_spec.run_id))
            pid, sid, pgid = got["pid"].split()[0], got["pid"].split()[2], got["pid"].split()[4]
            assert pid == sid == pgid  # its own session and process group
            assert got["uuid"] == run_spec.uuid
            assert got["cwd"] == got["path0"] == str(workdir)
            seen[name] = got
        assert seen["forked"]["ppid"] == str(zygote)
        assert seen["plain"]["ppid"] == str(os.getpid())
        # The same descriptors: stdin, stdout, stderr, the event and control pipes.
        assert seen["forked"]["fds"] == seen["plain"]["fds"]
    finally:
        for executor in (plain, forked):
            await executor.wait_all(10)
            await executor.close()


async def test_job_code_is_imported_after_the_fork(workdir: Path) -> None:
    events = Recorder()
    executor = LocalExecutor()
    try:
        await ready(executor)
        first = spec(workdir, "execjobs:version")
        await run(executor, events, first)
        assert "version 1" in events.stdout(first.run_id)
        (workdir / "jobmod.py").write_text("VERSION = 2\n")
        second = spec(workdir, "execjobs:version")
        await run(executor, events, second)
        assert "version 2" in events.stdout(second.run_id)
        zygote = executor.fork_servers["python"].pid
        modules = (Path(f"/proc/{zygote}/maps")).read_text()
        assert "jobmod" not in modules
    finally:
        await executor.wait_all(10)
        await executor.close()


async def test_the_zygote_holds_only_its_socket_and_standard_streams(workdir: Path) -> None:
    executor = LocalExecutor()
    try:
        await ready(executor)
        zygote = executor.fork_servers["python"].pid
        targets = _fd_targets(zygote)
        # stdin, stdout, stderr, the socket to the server, the two ends of its wake-up pipe,
        # and the socket of the spare (the next run's process, forked ahead).
        assert len(targets) == 7, targets
        assert targets.count("socket") == 2
        assert "/dev/null" in targets
        assert not any(t.endswith((".db", ".sqlite")) for t in targets)
        # No threads: forking a threaded process would copy locks held by other threads.
        assert os.listdir(f"/proc/{zygote}/task") == [str(zygote)]
        # The spare has left the zygote: its own session, only its standard streams and its
        # socket, no run's uuid yet.
        spare = _spare(zygote)
        assert os.getsid(spare) == spare
        held = _fd_targets(spare)
        assert len(held) == 4 and held.count("socket") == 1, held
        assert b"JOBEXT_RUN_UUID=" not in _environ(spare)
    finally:
        await executor.close()
    assert not Path(f"/proc/{zygote}").exists() or _zombie(zygote)
    # Its zygote gone, the spare ends: no run will come.
    await eventually_async(
        lambda: not Path(f"/proc/{spare}").exists() or _zombie(spare), message="the spare"
    )


def _fd_targets(pid: int) -> list[str]:
    fd_dir = Path(f"/proc/{pid}/fd")
    return sorted(os.readlink(fd_dir / fd).split(":")[0] for fd in os.listdir(fd_dir))


def _spare(zygote: int) -> int:
    children = Path(f"/proc/{zygote}/task/{zygote}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


async def test_a_stray_forked_without_exec_carries_the_run_uuid(workdir: Path) -> None:
    events = Recorder()
    executor = LocalExecutor()
    try:
        await ready(executor)
        run_spec = spec(workdir, "execjobs:daemon", {"seconds": 60})
        needle = f"JOBEXT_RUN_UUID={run_spec.uuid}".encode()
        await executor.start(run_spec, events)
        await eventually_async(lambda: "daemon started" in events.stdout(run_spec.run_id))
        strays = [p for p in _pids() if needle in _environ(p)]
        assert strays, "the daemon carries the run's uuid in /proc/<pid>/environ"
        await eventually_async(lambda: events.exits.get(run_spec.run_id))
        # After the run's end the executor sweeps what carries its uuid.
        await eventually_async(
            lambda: not [p for p in _pids() if needle in _environ(p) and not _zombie(p)],
            message="the stray to be killed",
        )
    finally:
        await executor.wait_all(10)
        await executor.close()


async def test_kill_leftovers_ends_what_a_crash_left(workdir: Path) -> None:
    events = Recorder()
    executor = LocalExecutor()
    try:
        await ready(executor)
        run_spec = spec(workdir, "execjobs:sleep")
        pid = await executor.start(run_spec, events)
        assert pid is not None
        await eventually_async(lambda: "sleeping" in events.stdout(run_spec.run_id))
        # As if another server's crash had left the process: the sweep alone finds it.
        executor.kill_leftovers(run_spec.uuid)
        outcome = await eventually_async(lambda: events.exits.get(run_spec.run_id))
        assert outcome.returncode == -signal.SIGKILL
        assert kill_run_processes(run_spec.uuid) == 0
    finally:
        await executor.wait_all(10)
        await executor.close()


async def test_the_zygote_is_started_again_when_it_dies(workdir: Path) -> None:
    events = Recorder()
    executor = LocalExecutor()
    server = executor.fork_servers["python"]
    try:
        await ready(executor)
        first_zygote = server.pid
        assert first_zygote is not None
        running = spec(workdir, "execjobs:sleep", {"seconds": 1.5})
        await executor.start(running, events)
        await eventually_async(lambda: "sleeping" in events.stdout(running.run_id))
        os.kill(first_zygote, signal.SIGKILL)
        await eventually_async(lambda: not server.ready, message="the zygote's death noticed")
        # A run meanwhile starts without it.
        meanwhile = spec(workdir, "execjobs:facts")
        assert (await run(executor, events, meanwhile)).returncode == 0
        # The run it had forked goes on, and its end is still reported (exit status unknown).
        outcome = await eventually_async(lambda: events.exits.get(running.run_id))
        assert outcome.end is not None and outcome.end["status"] == "succeeded"
        server._retry_at = 0.0  # skip the pause before a restart
        await ready(executor)
        assert server.pid != first_zygote
        again = spec(workdir, "execjobs:facts")
        assert (await run(executor, events, again)).returncode == 0
        assert facts(events.stdout(again.run_id))["ppid"] == str(server.pid)
    finally:
        await executor.wait_all(10)
        await executor.close()


async def test_pause_stop_and_kill_reach_a_forked_run(workdir: Path) -> None:
    events = Recorder()
    executor = LocalExecutor()
    try:
        await ready(executor)
        looping = spec(workdir, "execjobs:sleep")
        looping = RunSpec(**{**looping.__dict__, "kind": "shell", "target": "echo up; sleep 60"})
        await executor.start(looping, events)
        await eventually_async(lambda: "up" in events.stdout(looping.run_id))
        executor.pause(looping.run_id)
        await eventually_async(lambda: events.messages.get(looping.run_id))
        assert events.messages[looping.run_id] == [{"t": "paused"}]
        executor.resume(looping.run_id)
        executor.stop(looping.run_id)
        outcome = await eventually_async(lambda: events.exits.get(looping.run_id))
        assert outcome.end is not None and outcome.end["status"] == "stopped"
    finally:
        await executor.wait_all(10)
        await executor.close()


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


FORK_KINDS = ("python", "shell", "query", "notebook")


async def test_each_family_of_kinds_has_a_fork_server_of_its_own(workdir: Path) -> None:
    """Forking and ending a process cost in proportion to its memory: python and shell runs are
    forked from a fork server that holds none of the notebook and query kinds' libraries."""
    executor = LocalExecutor()
    servers = {kind: executor.fork_servers[kind] for kind in FORK_KINDS}
    light, heavy = servers["python"], servers["notebook"]
    assert servers["shell"] is light and servers["query"] is heavy and light is not heavy
    try:
        for server in (light, heavy):
            server.start()
        await eventually_async(lambda: light.ready and heavy.ready, message="both fork servers")
        maps = {
            name: Path(f"/proc/{server.pid}/maps").read_text()
            for name, server in (("light", light), ("heavy", heavy))
        }
        for library in ("zmq", "psycopg", "sqlalchemy"):
            assert library not in maps["light"].lower(), library
            assert library in maps["heavy"].lower(), library
        events = Recorder()
        outcome = await run(executor, events, run_spec := spec(workdir, "execjobs:facts"))
        assert outcome.returncode == 0, events.logs
        assert facts(events.stdout(run_spec.run_id))["ppid"] == str(light.pid)
    finally:
        await executor.wait_all(10)
        await executor.close()
