"""``notebook`` jobs: run a notebook under the server's root dir with parameters.

Args become parameters by papermill's convention: a new cell tagged ``injected-parameters``
after the cell tagged ``parameters`` (at the top when there is none), assigning each argument
as a Python literal, so strings with quotes, backslashes and newlines, numbers, booleans, lists
and dicts arrive as the same values. Each code cell is a step; progress is cells done / cells
total; cell output streams into the run's log as it comes. A pause takes effect between cells; a
stop interrupts the running cell and shuts the kernel down. The executed notebook (outputs and
the injected cell included) is the result, for failed runs too; with ``options: {"html":
true}`` an HTML copy is kept beside it (``GET /runs/{id}/result?format=html``).
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobext.errors import Invalid
from jobext.paths import under_root

if TYPE_CHECKING:
    from jobext.db.tables import Job
    from jobext.kinds.registry import KindEnv

OPTIONS: dict[str, type | tuple[type, ...]] = {"html": bool, "cell_timeout_s": (int, float)}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FORMAT_CHECKERS = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "isoduration",
    "webcolors",
    "uri_template",
    "fqdn",
    "jsonpointer",
)


# ---------------------------------------------------------------------------- server side


def _notebook_path(target: str, root: Path) -> Path:
    path, found = under_root(target, root, field="target", what="a notebook path")
    if path.suffix != ".ipynb":
        raise Invalid("target", f"{target!r} is not a notebook (.ipynb)")
    if found != "file":
        raise Invalid("target", f"no notebook at {target!r} under the server's root dir")
    return path


def _kernel_name(job: Job, path: Path) -> str:
    if job.kernel:
        return job.kernel
    try:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError) as exc:
        raise Invalid("target", f"cannot read the notebook: {exc}") from None
    return str(metadata.get("kernelspec", {}).get("name") or "python3")


def check(job: Job, env: KindEnv) -> str:
    """The notebook must exist under the root dir; ``kernel``, when given, must be installed;
    options are ``html`` and ``cell_timeout_s``. Starts warming kernels for it."""
    target = job.target.strip().replace("\\", "/")
    path = _notebook_path(target, env.root_dir)
    options = job.options or {}
    for key, value in options.items():
        kinds = OPTIONS.get(key)
        if kinds is None:
            raise Invalid(
                "options", f"unknown option {key!r}; notebook jobs take {sorted(OPTIONS)}"
            )
        if not isinstance(value, kinds) or isinstance(value, bool) is not (kinds is bool):
            raise Invalid("options", f"{key} has the wrong type")
    if job.kernel:
        from jupyter_client.kernelspec import KernelSpecManager

        installed = KernelSpecManager().find_kernel_specs()
        if job.kernel not in installed:
            raise Invalid(
                "kernel", f"no kernel {job.kernel!r} is installed; there are {sorted(installed)}"
            )
    name = _kernel_name(job, path)
    if env.kernels is not None:
        env.kernels.warm(name)
    return target


def merge_args(default_args: Any, args: Any, *, field: str) -> dict[str, Any]:
    """Parameters are a JSON object whose keys are Python names."""
    if args is not None and not isinstance(args, dict):
        raise Invalid(field, "notebook jobs take a JSON object of parameters")
    merged: dict[str, Any] = dict(default_args) if isinstance(default_args, dict) else {}
    merged.update(args or {})
    bad = [k for k in merged if not k.isidentifier()]
    if bad:
        raise Invalid(field, f"{bad[0]!r} is not a valid parameter name")
    return merged


async def launch_options(job: Job, env: KindEnv, run_uuid: str) -> dict[str, Any]:
    path = _notebook_path(job.target, env.root_dir)
    name = _kernel_name(job, path)
    options = dict(job.options or {})
    kernel = await env.kernels.take(name, run_uuid) if env.kernels is not None else None
    return {"path": str(path), "kernel_name": name, "kernel": kernel, **options}


def finished(run_uuid: str, env: KindEnv) -> None:
    """The run has ended: its pool kernel goes (never reused)."""
    if env.kernels is not None:
        env.kernels.release(run_uuid)


# ---------------------------------------------------------------------------- job process


def preload() -> None:
    """Import what every notebook run needs (the fork server calls this once, before forking
    runs of any kind)."""
    import sys

    # See execute(): the format checkers stay unimported. The blocks come off again so that
    # other kinds' jobs forked from the same process can import those modules.
    blocked = [name for name in _FORMAT_CHECKERS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import jupyter_client.asynchronous.client
        import jupyter_client.manager  # noqa: F401
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def parameters_cell_source(params: dict[str, Any]) -> str:
    """Python assignments that recreate ``params`` exactly (``repr`` of JSON values is a
    Python literal of the same value)."""
    lines = ["# Parameters"]
    lines += [f"{name} = {value!r}" for name, value in params.items()]
    return "\n".join(lines) + "\n"


def inject_parameters(nb: Any, params: dict[str, Any]) -> None:
    """Insert the injected-parameters cell (papermill's convention)."""
    import nbformat

    cell = nbformat.v4.new_code_cell(parameters_cell_source(params))
    cell.metadata["tags"] = ["injected-parameters"]
    index = 0
    for i, existing in enumerate(nb.cells):
        if "parameters" in existing.get("metadata", {}).get("tags", []):
            index = i + 1
            break
    nb.cells.insert(index, cell)


def execute(spec: dict[str, Any], channel: Any) -> dict[str, Any]:
    """Run the notebook; the executed copy is the result whatever happens."""
    # jsonschema's optional format checkers cost a second of CPU at import (rfc3987_syntax
    # builds a grammar) and nbformat's schema needs none of them: they stay unimported here.
    import sys

    for optional in _FORMAT_CHECKERS:
        sys.modules.setdefault(optional, None)  # type: ignore[arg-type]
    import asyncio

    import nbformat

    options = spec["options"]
    path = Path(options["path"])
    nb = nbformat.read(path, as_version=4)
    params = spec.get("args") or {}
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    if params and language != "python":
        raise ValueError(f"parameters can only be injected into Python notebooks, not {language}")
    if params:
        inject_parameters(nb, params)
    from jobext.job import api as context

    try:
        return asyncio.run(_run_cells(nb, path, spec, channel))
    finally:
        result = context.result_path(".ipynb")
        nbformat.write(nb, result)
        if options.get("html"):
            _write_html(nb, result.with_suffix(".html"))


def _write_html(nb: Any, target: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


async def _run_cells(nb: Any, path: Path, spec: dict[str, Any], channel: Any) -> dict[str, Any]:
    import asyncio

    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from jobext.job import api as context

    options = spec["options"]
    kernel = options.get("kernel")
    timeout = options.get("cell_timeout_s")

    class Client(NotebookClient):  # type: ignore[misc]
        def output(self, outs: Any, msg: Any, display_id: Any, cell_index: int) -> Any:
            out = super().output(outs, msg, display_id, cell_index)
            _log_output(msg)
            return out

    client = Client(nb, timeout=timeout, kernel_name=options["kernel_name"], allow_errors=False)
    km: AsyncKernelManager | None = None
    kernel_pid = None
    if kernel is not None:
        kc = AsyncKernelClient()
        kc.load_connection_info(kernel["connection"])
        kernel_pid = kernel.get("pid")
    else:
        km = AsyncKernelManager(kernel_name=options["kernel_name"])
        await km.start_kernel(cwd=str(path.parent))
        kc = km.client()
    kc.start_channels()
    await _handshake(kc, kernel_pid)
    client.kc = kc
    client.km = km
    client.reset_execution_trackers()
    # A pool kernel started elsewhere: give it the notebook's directory and the run's identity.
    setup = (
        f"import os as __o; __o.chdir({str(path.parent)!r}); "
        f"__o.environ.update({{'JOBEXT_RUN_UUID': {spec['uuid']!r}, "
        f"'JOBEXT_RUN_ID': {str(spec['run_id'])!r}}}); del __o"
    )
    await kc.execute_interactive(setup, silent=True, store_history=False, timeout=30)

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    stopping = False

    def on_sigterm() -> None:
        nonlocal stopping
        stopping = True
        main.cancel()

    previous = signal.getsignal(signal.SIGTERM)
    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    code_cells = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    done = 0
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            context.checkpoint()
            first = (cell.source.strip().splitlines() or [""])[0][:60]
            with context.step(f"cell {index}: {first}" if first else f"cell {index}"):
                await client.async_execute_cell(
                    cell, index, execution_count=client.code_cells_executed + 1
                )
            done += 1
            context.progress(done / len(code_cells), f"{done} of {len(code_cells)} cells")
        return {"t": "end", "status": "succeeded", "exit_code": 0}
    except CellExecutionError as exc:
        text = _ANSI.sub("", str(exc))
        summary = f"{exc.ename}: {exc.evalue}" if getattr(exc, "ename", None) else text[:500]
        return {"t": "end", "status": "failed", "error": summary, "traceback": text[-4000:]}
    except asyncio.CancelledError:
        if not stopping:
            raise
        raise context.JobStopped("stopped while a cell ran") from None
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous)
        if stopping:
            await _end_kernel(km, kernel_pid)
        elif km is not None:
            await km.shutdown_kernel(now=True)
        kc.stop_channels()


async def _handshake(kc: Any, pid: int | None = None, timeout: float = 60.0) -> None:
    """Return once the kernel answers ``kernel_info`` and its output channel is connected.

    jupyter_client's ``wait_for_ready`` sleeps 0.2-0.4 s on fixed timers even for a kernel
    that is up already, as pool kernels are: most of a notebook run's cost. A kernel forked for
    the run may still be starting: while its process (``pid``) lives it is waited for (its
    heartbeat says nothing until it is up).
    """
    import asyncio
    import queue
    import time

    from jobext.job.processes import process_lives

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kc.kernel_info()
        try:
            reply = await kc.shell_channel.get_msg(timeout=1)
        except queue.Empty:
            if not (process_lives(pid) if pid else await kc.is_alive()):
                raise RuntimeError("the kernel died before it answered") from None
            continue
        if reply["msg_type"] != "kernel_info_reply":
            continue
        try:
            # kernel_info makes the kernel publish its status: heard, the channel is connected.
            await kc.iopub_channel.get_msg(timeout=0.05)
        except queue.Empty:
            continue
        while True:
            try:
                await kc.iopub_channel.get_msg(timeout=0.01)
            except queue.Empty:
                return
        await asyncio.sleep(0)
    raise RuntimeError(f"the kernel did not answer within {timeout:g} s")


async def _end_kernel(km: Any, pid: int | None) -> None:
    """Interrupt what the kernel runs, then shut it down."""
    if km is not None:
        try:
            await km.interrupt_kernel()
        finally:
            await km.shutdown_kernel(now=True)
    elif pid:
        for sig in (signal.SIGINT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if sig is signal.SIGINT:
                import asyncio

                await asyncio.sleep(0.2)


def _log_output(msg: dict[str, Any]) -> None:
    """One output message of a cell, as log lines (stdout, stderr)."""
    import sys

    kind = msg["msg_type"]
    content = msg["content"]
    if kind == "stream":
        stream = sys.stderr if content.get("name") == "stderr" else sys.stdout
        stream.write(content.get("text", ""))
        stream.flush()
    elif kind in ("execute_result", "display_data"):
        text = content.get("data", {}).get("text/plain")
        if text:
            sys.stdout.write(text.rstrip("\n") + "\n")
            sys.stdout.flush()
    elif kind == "error":
        sys.stderr.write(_ANSI.sub("", "\n".join(content.get("traceback", []))) + "\n")
        sys.stderr.flush()
