"""Where runs execute. ``local`` (subprocesses on this host) is the default."""

from jobext.executors.base import Executor, ExecutorEvents, Outcome, RunSpec
from jobext.executors.local import LocalExecutor

__all__ = ["Executor", "ExecutorEvents", "LocalExecutor", "Outcome", "RunSpec"]
