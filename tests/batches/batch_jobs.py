"""Jobs the batch tests run; copied into the test server's root dir (``batch_jobs:lane``)."""

from __future__ import annotations

import json
import time

import jobext


def lane(seconds: float = 0.0, fail_below: int = -1) -> dict[str, object] | None:
    """Say which sub-job and iteration this is, keep it in a result file, run ``seconds``
    (with checkpoints), and fail at once when the sub-job is below ``fail_below``."""
    info = jobext.batch_info()
    print(f"batch_info {json.dumps(info, sort_keys=True)}", flush=True)
    jobext.result_path(".json").write_text(json.dumps(info))
    if info is not None and info["sub_job"] < fail_below:
        raise ValueError(f"sub-job {info['sub_job']} fails on purpose")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        jobext.checkpoint()
        time.sleep(0.02)
    return info
