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
