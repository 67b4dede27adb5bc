"""Runs on a Dask cluster (``pip install "jobext[dask]"``): the server's executor and the relay
that each worker runs."""

from jobext.executors.dask.attempts import AttemptClaims
from jobext.executors.dask.executor import DaskExecutor
from jobext.executors.dask.results import cluster_factory

__all__ = ["AttemptClaims", "DaskExecutor", "cluster_factory"]
