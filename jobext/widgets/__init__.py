"""ipywidgets panels of jobext (``pip install "jobext[widgets]"``)::

    from jobext.widgets import JobsPanel
    JobsPanel()

They talk to the server through :class:`jobext.client.JobsClient` (found by itself inside a
kernel, or pass ``client=JobsClient(url, token)``), update from background threads, and stop
those threads on ``close()``.
"""

from __future__ import annotations

from .common import allowed_actions
from .jobs_list import JobsList
from .launcher import JobLauncher
from .panel import JobsPanel
from .result_view import ResultView
from .run_view import RunView
from .runs_browser import RunsBrowser
from .schedule_editor import ScheduleEditor
from .schedules_list import SchedulesList

__all__ = [
    "JobLauncher",
    "JobsList",
    "JobsPanel",
    "ResultView",
    "RunView",
    "RunsBrowser",
    "ScheduleEditor",
    "SchedulesList",
    "allowed_actions",
]
