"""The Jupyter Server extension: configuration, and the start and stop of background work."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import sys
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from sqlalchemy.engine import make_url
from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, observe, validate

from jobext.apps.deployer import AppDeployer
from jobext.batches.controller import BatchController
from jobext.batches.manager import BatchManager
from jobext.db.engine import Database
from jobext.errors import JobExtError
from jobext.executors import Executor, LocalExecutor
from jobext.http.routes import API, ROUTES
from jobext.jobs.manager import JobManager
from jobext.kinds import registry as kinds_registry
from jobext.kinds.kernel_pool import KernelPool
from jobext.kinds.registry import KNOWN as AVAILABLE_KINDS
from jobext.kinds.registry import KindEnv
from jobext.runs.events import EventHub
from jobext.runs.manager import RunManager
from jobext.runs.supervisor import Supervisor
from jobext.schedules.loop import Scheduler
from jobext.schedules.manager import ScheduleService
from jobext.workers.manager import WorkerManager


class JobExtApp(ExtensionApp):
    """jobext: a job manager inside the Jupyter server."""

    name = "jobext"
    load_other_extensions = True

    db_url = Unicode(
        "",
        config=True,
        help=(
            "SQLAlchemy URL of the database. Empty: a SQLite file jobext/jobext.db in the Jupyter "
            "data dir (created if missing). Teams: postgresql+psycopg://user@host/db."
        ),
    )
    results_dir = Unicode(
        "",
        config=True,
        help="Where run results are kept. Empty: jobext/results in the Jupyter data dir.",
    )
    max_workers = Int(
        0,
        config=True,
        help="Runs this server executes at once; more wait in 'queued'. 0: the number of CPUs.",
    )
    allowed_kinds = List(
        Unicode(),
        default_value=list(AVAILABLE_KINDS),
        config=True,
        help="Job kinds this server registers and runs; drop 'shell' to forbid shell commands.",
    )
    connections = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        default_value={},
        config=True,
        help="Databases that saved-query jobs may use: name → SQLAlchemy URL, e.g. "
        "{'warehouse': 'postgresql+psycopg://reader@db/warehouse'}. The API shows their names, "
        "dialects, hosts and databases, never their passwords.",
    )
    max_log_bytes = Int(
        100_000_000,
        config=True,
        help="Bytes of log kept per run (stdout, stderr and logging together). Past it the run "
        "goes on, its further lines are dropped, its log says so once and its event stream "
        "gets a 'truncated' event. 0: no limit.",
    )
    job_cwd = Unicode(
        "",
        config=True,
        help="Working directory of job processes (modules there are importable). Empty: the "
        "server's root_dir.",
    )
    stop_grace_s = Float(
        10.0,
        config=True,
        help="Seconds a stopped job gets to end after SIGTERM before its process group is killed.",
    )
    heartbeat_s = Float(5.0, config=True, help="Seconds between this server's heartbeats.")
    worker_offline_after_s = Float(
        60.0,
        config=True,
        help="A worker (another server's, or a Dask worker) whose heartbeat is older than this "
        "is offline and its runs are settled as for a dead server. A server on this same "
        "machine is judged by its process at once.",
    )
    dead_server_after_s = Float(
        None,
        allow_none=True,
        config=True,
        help="Deprecated: the old name of worker_offline_after_s.",
    )
    worker_name = Unicode(
        "",
        config=True,
        help="The name of this server's worker in GET /workers (empty: '<host name>:<port>').",
    )
    event_flush_s = Float(
        0.05, config=True, help="Seconds between writes of buffered log lines to the database."
    )
    keep_runs = Int(
        1000,
        config=True,
        help="Ended runs kept per job where the job sets no keep_runs (0: all). Older ones go "
        "with their logs and results.",
    )
    keep_days = Float(
        90.0,
        config=True,
        help="Days an ended run is kept where its job sets no keep_days (0: for ever).",
    )
    retention_every_s = Float(
        600.0, config=True, help="Seconds between sweeps that apply retention to every job."
    )
    switch_interval_s = Float(
        0.001,
        config=True,
        help=(
            "The interpreter's thread switch interval while jobext runs (sys.setswitchinterval; "
            "Python's default is 0.005). jobext does its database and file work on threads: "
            "with a shorter interval the event loop waits less for the interpreter lock after "
            "their turns, so Jupyter answers sooner while logs pour in. 0 leaves it as it is; "
            "a longer interval than the one already set is not applied."
        ),
    )
    retry_backoff_max_s = Float(
        3600.0, config=True, help="Cap of the exponential backoff between retries of a run."
    )
    misfire_threshold_s = Float(
        5.0,
        config=True,
        help="A fire time found due later than this (say, after the server was down) is a "
        "misfire, handled by the schedule's misfire policy; a later one fires as usual.",
    )
    misfire_grace_s = Float(
        3600.0,
        config=True,
        help="Default grace window of misfire 'all': missed fire times older than this are "
        "not run.",
    )
    kernel_pool_size = Int(
        2,
        config=True,
        help="Kernels kept started and ready per kernelspec that notebook jobs use, so a run does "
        "not wait for one (each kernel serves one run, then goes). 0: every run starts its own.",
    )
    fork_kernels = Bool(
        True,
        config=True,
        help="Fork the pool's kernels from a process that has imported ipykernel once (about a "
        "tenth of the CPU of starting one), for kernelspecs that run this server's own Python "
        "with ipykernel and set no environment of their own. False: start every kernel.",
    )
    batch_lease_s = Float(
        15.0,
        config=True,
        help="Seconds a server's hold on a batch it drives lasts unless renewed; another server "
        "takes the batch over once it lapses (its server died).",
    )
    app_import_timeout_s = Float(
        60.0,
        config=True,
        help="Seconds an app's code may take to import when it is deployed (in a process of its "
        "own); past it the deployment answers 400 and changes nothing.",
    )
    host_name = Unicode(
        "",
        config=True,
        help="The name this server gives its host in the database (empty: the machine's host "
        "name). Servers with the same host name check each other by process id; others by "
        "heartbeat.",
    )
    executor = Enum(
        ["local", "dask"],
        default_value="local",
        config=True,
        help="Where runs execute: 'local' (processes of this server's host) or 'dask' (a "
        "distributed cluster: set dask_address or dask_cluster_factory; pip install "
        "'jobext[dask]').",
    )
    dask_address = Unicode(
        "",
        config=True,
        help="Address of the Dask scheduler that runs execute on (executor = 'dask'), e.g. "
        "tcp://scheduler:8786.",
    )
    dask_cluster_factory = AnyTrait(
        None,
        allow_none=True,
        config=True,
        help="Instead of dask_address: a callable, or the 'module:function' path of one, that "
        "returns a Dask cluster object (LocalCluster, a dask-gateway cluster, ...) or a "
        "scheduler address, or a coroutine of one. Called once, when the first run starts; the "
        "cluster is closed with the server.",
    )
    dask_slot_resource = Unicode(
        "jobext-slots",
        config=True,
        help="The Dask worker resource one run takes (workers declare it: dask worker "
        "--resources jobext-slots=4). Ignored while no worker declares it.",
    )

    @observe("dead_server_after_s")
    def _renamed_offline_after(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.log.warning(
                "JobExtApp.dead_server_after_s is deprecated: use worker_offline_after_s"
            )
            self.worker_offline_after_s = change["new"]

    @validate("connections")
    def _check_connections(self, proposal: dict[str, Any]) -> dict[str, str]:
        checked = dict(proposal["value"])
        for name, url in checked.items():
            try:
                make_url(url)
            except Exception as exc:
                raise ValueError(f"connection {name!r}: not an SQLAlchemy URL ({exc})") from None
        return checked

    @validate("allowed_kinds")
    def _check_kinds(self, proposal: dict[str, Any]) -> list[str]:
        kinds = list(proposal["value"])
        unknown = sorted(set(kinds) - set(AVAILABLE_KINDS))
        if unknown:
            raise ValueError(f"unknown job kinds {unknown}; available: {list(AVAILABLE_KINDS)}")
        return kinds

    def jobext_dir(self) -> Path:
        return Path(jupyter_data_dir()) / "jobext"

    def resolved_db_url(self) -> str:
        if self.db_url:
            return self.db_url
        path = self.jobext_dir() / "jobext.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"

    def initialize_settings(self) -> None:
        results = Path(self.results_dir) if self.results_dir else self.jobext_dir() / "results"
        results.mkdir(parents=True, exist_ok=True)
        self.db = Database.open(self.resolved_db_url())
        self.hub = EventHub(self.db, flush_interval=self.event_flush_s)
        base_url = self.serverapp.base_url if self.serverapp else "/"
        root = self.job_cwd or (self.serverapp.root_dir if self.serverapp else os.getcwd())
        server_root = Path(self.serverapp.root_dir if self.serverapp else root)
        self.kernels = KernelPool(
            self.kernel_pool_size, cwd=str(server_root), fork=self.fork_kernels
        )
        api_base = f"{base_url.rstrip('/')}/{API}"
        self.hub.api_base = api_base
        self.jobs = JobManager(
            self.db,
            results_dir=results,
            allowed_kinds=frozenset(self.allowed_kinds),
            api_base=api_base,
            kind_env=KindEnv(
                root_dir=server_root,
                connections=dict(self.connections),
                kernels=(
                    self.kernels if self.kernel_pool_size > 0 and self.executor == "local" else None
                ),
            ),
        )
        self.runs = RunManager(self.db, self.hub, self.jobs)
        self.jobs.publish = self.hub.feed.publish
        self.runs.default_keep_runs = self.keep_runs
        self.runs.default_keep_days = self.keep_days
        self.runs.max_backoff_s = self.retry_backoff_max_s
        self.supervisor = Supervisor(
            self.runs,
            self._make_executor(),
            max_workers=self.max_workers or os.cpu_count() or 2,
            cwd=root,
            stop_grace_s=self.stop_grace_s,
            heartbeat_s=self.heartbeat_s,
            dead_after_s=self.worker_offline_after_s,
            retention_every_s=self.retention_every_s,
            host_name=self.host_name or None,
            worker_name=self.worker_name or self._default_worker_name(),
        )
        self.workers = WorkerManager(self.db, self.hub.feed)
        self.workers.on_change = self._worker_changed
        self.supervisor.upkeep.on_heartbeat = self.workers.tend
        self.schedules = ScheduleService(self.runs, default_grace_s=self.misfire_grace_s)
        self.scheduler = Scheduler(
            self.schedules,
            server_id=self.supervisor.server_id,
            misfire_threshold_s=self.misfire_threshold_s,
        )
        self.batches = BatchManager(self.runs, server_id=self.supervisor.server_id)
        self.apps = AppDeployer(
            self.jobs,
            self.schedules,
            job_dir=Path(root),
            import_timeout_s=self.app_import_timeout_s,
        )
        self.batch_controller = BatchController(
            self.batches,
            server_id=self.supervisor.server_id,
            lease_s=self.batch_lease_s,
            dead_after_s=self.worker_offline_after_s,
        )
        self.log.info(
            "jobext: database %s, results in %s, %d workers",
            self.db.engine.url.render_as_string(hide_password=True),
            results,
            self.supervisor.max_workers,
        )

    def _make_executor(self) -> Executor:
        if self.executor == "local":
            return LocalExecutor(max_log_bytes=self.max_log_bytes or None)
        from jobext.executors.dask import DaskExecutor, cluster_factory

        return DaskExecutor(
            address=self.dask_address or None,
            cluster_factory=cluster_factory(self.dask_cluster_factory),
            max_log_bytes=self.max_log_bytes or None,
            slot_resource=self.dask_slot_resource,
            db=self.db,
            heartbeat_s=self.heartbeat_s,
        )

    def _default_worker_name(self) -> str | None:
        if self.serverapp is None:
            return None
        return f"{self.host_name or socket.gethostname()}:{self.serverapp.port}"

    def _worker_changed(self, worker_id: str) -> None:
        """Drain or resume changed a worker: this server's looks for runs if it was its own."""
        if worker_id == self.supervisor.server_id:
            self.supervisor.wake()

    def initialize_handlers(self) -> None:
        self.handlers.extend(ROUTES)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        # The server's start-up objects live as long as it does; moving them out of the
        # collector's sight keeps full collections short, which a job printing 100,000 lines a
        # second otherwise turns into event-loop stalls of a few hundred milliseconds.
        gc.collect()
        gc.freeze()
        if 0 < self.switch_interval_s < sys.getswitchinterval():
            sys.setswitchinterval(self.switch_interval_s)
        # From here on, database work on the loop's own thread is a bug, and says so.
        self.db.guard_loop()
        await self.supervisor.start()
        self.scheduler.start()
        self.batch_controller.start()
        self._warm_task = asyncio.get_running_loop().create_task(self._warm_kernels())

    async def _warm_kernels(self) -> None:
        """Start kernels for the notebook jobs registered already (off the loop)."""
        for job in await self.jobs.of_kind("notebook"):
            try:
                kinds_registry.check(job, self.jobs.kind_env)
                await asyncio.sleep(0)
            except JobExtError as exc:
                self.log.warning("jobext: notebook job %r: %s", job.name, exc)

    async def stop_extension(self) -> None:
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            await scheduler.stop()
        # Before the supervisor stops the runs: the batches hand their leases back and do
        # not take the shutdown's stops for their own.
        batch_controller = getattr(self, "batch_controller", None)
        if batch_controller is not None:
            await batch_controller.stop()
        supervisor = getattr(self, "supervisor", None)
        if supervisor is not None:
            await supervisor.stop()
            await self.kernels.stop()
            await asyncio.get_running_loop().run_in_executor(None, self.db.dispose)
