"""A small job module for the example notebooks: jobs import it from the server's root dir."""

import logging
import time

import jobext

log = logging.getLogger("etl")


def export(rows: int = 5, pause: float = 0.2) -> int:
    """Writes ``rows`` rows to a CSV result, reporting progress and honouring pause and stop."""
    with jobext.step("extract"):
        for i in range(rows):
            print(f"row {i}")
            log.info("read row %d", i)
            jobext.progress((i + 1) / rows, f"{i + 1} of {rows} rows")
            jobext.checkpoint()
            time.sleep(pause)
    with jobext.step("write"):
        path = jobext.result_path(".csv")
        path.write_text("id,square\n" + "".join(f"{i},{i * i}\n" for i in range(rows)))
        jobext.records_written(rows)
    return rows


def batch_call(seconds: float = 0.5, fail_below: int = -1) -> dict:
    """One iteration of a batch's sub-job: says which (``jobext.batch_info()``), takes
    ``seconds``, and fails when its sub-job is below ``fail_below``."""
    info = jobext.batch_info() or {}
    print(f"sub-job {info.get('sub_job')}, iteration {info.get('iteration')}")
    if info.get("sub_job", 0) < fail_below:
        raise RuntimeError(f"sub-job {info['sub_job']} fails on purpose")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        jobext.checkpoint()
        time.sleep(0.05)
    return info
