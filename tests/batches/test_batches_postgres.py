"""The batch API tests again, on a fresh PostgreSQL database (row locks, ``timestamptz``, the
grouped read model's SQL)."""

from __future__ import annotations

from pg import server_on_fresh_database
from test_batches_api import (  # noqa: F401  (fixtures and tests, run here on PostgreSQL)
    jobext_config,
    jp_root_dir,
    test_delete_removes_runs_logs_and_results,
    test_direct_control_of_a_batch_run_is_refused,
    test_errors_for_unknown_things_and_illegal_directives,
    test_failure_threshold_fails_the_batch_and_stops_the_rest,
    test_infinite_iterations_until_stopped,
    test_lists_paging_and_filters,
    test_pause_drains_then_holds_and_unpause_continues,
    test_start_on_a_running_batch_clears_and_restarts,
    test_stop_stops_every_run_and_resets_progress,
    test_stop_with_a_long_queue_stops_every_queued_run,
    test_sub_jobs_start_in_groups_one_second_apart,
)

pg_database, jp_server_cleanup, db_url = server_on_fresh_database("jobext_batches")
