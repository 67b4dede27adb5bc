"""ipywidgets panels of jobext (``pip install "jobext[widgets]"``)::

    from jobext.widgets import JobsPanel
    JobsPanel()

They talk to the server through :class:`jobext.client.JobsClient` (found by itself inside a
kernel, or pass ``client=JobsClient(url, token)``), update from background threads, and stop
those threads on ``close()``.
"""

from __future__ import annotations

from jobext.widgets.batch_view import BatchView
from jobext.widgets.common import allowed_actions
from jobext.widgets.jobs_list import JobsList
from jobext.widgets.launcher import JobLauncher
from jobext.widgets.panel import JobsPanel
from jobext.widgets.result_view import ResultView
from jobext.widgets.run_view import RunView
from jobext.widgets.runs_browser import RunsBrowser
from jobext.widgets.schedule_editor import ScheduleEditor
from jobext.widgets.schedules_list import SchedulesList
from jobext.widgets.workers_view import WorkersView

__all__ = [
    "BatchView",
    "JobLauncher",
    "JobsList",
    "JobsPanel",
    "ResultView",
    "RunView",
    "RunsBrowser",
    "ScheduleEditor",
    "SchedulesList",
    "WorkersView",
    "allowed_actions",
]
