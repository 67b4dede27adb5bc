"""``@jobext.job``: marks a function of a module as a job of an app.

Decorating is free: it records the options beside the function and returns the function itself,
so importing the module outside a server does nothing else and the function stays callable as it
is. When an app is deployed, jobext imports its modules in a separate process
(:mod:`jobext.apps.discover`) and reads what was recorded here; the server checks the options.

This module is imported by every job process (``import jobext``): it imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `from typing import`: job processes must not pay for typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

#: The attribute that holds a decorated object's options.
MARK = "__jobext_job__"

#: Every ``(object, options)`` decorated in this process, in order (discovery reads it).
declared: list[tuple[Any, dict[str, Any]]] = []


def job(
    name: Any = None,
    description: str | None = None,
    schedule: str | dict[str, Any] | None = None,
    timezone: str = "UTC",
    args: Any = None,
    **job_options: Any,
) -> Any:
    """Mark a function (or a class with a ``run`` method) as a job of the app it belongs to.

    ``name`` defaults to ``<app>.<function name>``; ``description`` to the first line of the
    docstring. ``schedule`` is a cron expression (or a dict of ``POST /schedules`` fields with
    ``cron``) fired in ``timezone``, whose runs get ``args``. ``job_options`` are those of
    ``POST /jobs``: ``default_args``, ``max_concurrent``, ``queue_when_busy``, ``retries``,
    ``retry_backoff_s``, ``timeout_s``, ``restartable``, ``keep_runs``, ``keep_days``, ...

    Use it bare (``@jobext.job``) or called (``@jobext.job(schedule="0 6 * * *")``). The options
    are checked when the app is deployed (a bad one answers 400 there), not here.
    """
    bare = description is None and schedule is None and args is None and timezone == "UTC"
    if callable(name) and bare and not job_options:
        return _mark(name, {})
    options: dict[str, Any] = {"name": name, "description": description, **job_options}
    if schedule is not None:
        options["schedule"] = schedule
        options["timezone"] = timezone
    elif timezone != "UTC":
        options["timezone"] = timezone
    if args is not None:
        options["args"] = args

    def decorate(obj: F) -> F:
        return _mark(obj, options)

    return decorate


def _mark(obj: F, options: dict[str, Any]) -> F:
    kept = {key: value for key, value in options.items() if value is not None}
    try:
        setattr(obj, MARK, kept)
    except (AttributeError, TypeError):
        pass  # a builtin or a slotted object: the list below still knows it
    declared.append((obj, kept))
    return obj
