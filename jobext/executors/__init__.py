"""Where runs execute. ``local`` (subprocesses on this host) is the default."""

from .base import Executor, ExecutorEvents, Outcome, RunSpec
from .local import LocalExecutor

__all__ = ["Executor", "ExecutorEvents", "LocalExecutor", "Outcome", "RunSpec"]
