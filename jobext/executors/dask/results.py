"""Getting at the cluster, and result files back from it."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobext.executors.dask import relay as remote


def cluster_factory(spec: Any) -> Callable[[], Any] | None:
    """The cluster factory that ``c.JobExtApp.dask_cluster_factory`` names: a callable as it
    is, a ``"module:function"`` path imported, nothing for None or ""."""
    if spec is None or spec == "":
        return None
    if callable(spec):
        return spec  # type: ignore[no-any-return]
    module, _, name = str(spec).partition(":")
    if not module or not name:
        raise ValueError(f"dask_cluster_factory {spec!r} is not 'module:function'")
    factory = getattr(importlib.import_module(module), name)
    if not callable(factory):
        raise ValueError(f"dask_cluster_factory {spec!r} is not callable")
    return factory  # type: ignore[no-any-return]


async def copy_result(
    client: Any, worker: str, uuid: str, name: str, size: int, target_dir: Path, chunk_bytes: int
) -> None:
    """Copy result file ``name`` (``size`` bytes) of run ``uuid`` from ``worker`` into
    ``target_dir``, ``chunk_bytes`` at a time (so no size limit but the disk), writing off the
    event loop; the file appears whole under its name, or not at all."""
    target = target_dir / name
    partial = target.with_name(f".{name}.part")
    await asyncio.to_thread(target_dir.mkdir, parents=True, exist_ok=True)
    handle = await asyncio.to_thread(open, partial, "wb")
    try:
        offset = 0
        while offset < size:
            reply = await client.run(
                remote.read_chunk,
                uuid,
                name,
                offset,
                min(chunk_bytes, size - offset),
                workers=[worker],
            )
            chunk = reply.get(worker)
            if not chunk:
                raise OSError(f"{name} ended at byte {offset} of {size}")
            await asyncio.to_thread(handle.write, chunk)
            offset += len(chunk)
    finally:
        await asyncio.to_thread(handle.close)
    await asyncio.to_thread(partial.replace, target)
