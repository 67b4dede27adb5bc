"""``/apps``: jobs deployed from code (``@jobext.job`` functions of a module, a package or a
folder, and notebooks a folder marks in their metadata)."""

from __future__ import annotations

from typing import Any

from jobext.client._common import JSON, _name, _Resource


class Apps(_Resource):
    """``/apps``."""

    def deploy(self, name: str, module: str | None = None, *, path: str | None = None) -> JSON:
        """Deploy app ``name`` from ``module`` (importable from the server's job directory) or
        ``path`` (a ``.py`` file or a folder under its root dir): its code is imported in a
        process of its own and each ``@jobext.job`` becomes a job, with its schedule. Returns
        the app with its ``jobs`` and ``changes``; an import error, a job name used twice or a
        bad declaration raises ``BadRequest`` (its ``message`` says which and where)."""
        body: dict[str, Any] = {"name": name}
        body.update({"module": module} if module is not None else {"path": path})
        return self._call("POST", "apps", body)

    def redeploy(
        self,
        name: str,
        module: str | None = None,
        *,
        path: str | None = None,
        delete_runs: bool = False,
    ) -> JSON:
        """Import the app's code again (from a new ``module`` or ``path`` when given) and sync
        its jobs: ``changes`` says which were ``added``, ``updated``, ``removed`` and
        ``unchanged``. Removed jobs keep their runs unless ``delete_runs``."""
        body: dict[str, Any] = {}
        if module is not None:
            body["module"] = module
        if path is not None:
            body["path"] = path
        return self._call("PUT", f"apps/{_name(name)}", body, delete_runs=delete_runs or None)

    def list(
        self,
        search: str | None = None,
        *,
        page: int = 0,
        per_page: int = 50,
        sort: str | None = None,
    ) -> JSON:
        """A page ``{items, page, per_page, total}`` of apps with their jobs."""
        return self._call("GET", "apps", search=search, page=page, per_page=per_page, sort=sort)

    def get(self, name: str) -> JSON:
        """The app: ``module`` or ``path``, ``digest``, ``files``, ``deployed_at``, ``error``
        of its last failed redeployment, and its ``jobs`` with their schedules."""
        return self._call("GET", f"apps/{_name(name)}")

    def stats(self, name: str) -> JSON:
        """``{workers, jobs, schedules, runs: {status: count}}``."""
        return self._call("GET", f"apps/{_name(name)}/stats")

    def delete(self, name: str, *, delete_runs: bool = False) -> None:
        """Delete the app and its jobs with their schedules; their runs are kept unless
        ``delete_runs``."""
        self._call("DELETE", f"apps/{_name(name)}", delete_runs=delete_runs or None)
