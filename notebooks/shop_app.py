"""An example app: the shop's nightly jobs, declared in code.

Deploy it from this folder (the server's root dir) and its jobs appear, with their schedules::

    curl -s -H "$T" -X POST $API/apps -d '{"name": "shop", "module": "shop_app"}'

Edit this file and redeploy (``PUT /apps/shop``): changed jobs are updated, new ones added,
removed ones deleted with their schedules. Importing this module does nothing else, so the
functions can be tried in a notebook as they are.
"""

import time

import jobext


@jobext.job(default_args={"day": "yesterday"}, retries=2, retry_backoff_s=30)
def import_orders(day: str = "yesterday") -> int:
    """Load one day of orders from the shop's API."""
    orders = 40
    with jobext.step("download"):
        for i in range(orders):
            jobext.progress((i + 1) / orders, f"{i + 1} of {orders} orders of {day}")
            jobext.checkpoint()
            time.sleep(0.01)
    jobext.records_written(orders)
    return orders


@jobext.job(schedule="0 6 * * mon-fri", timezone="Europe/Berlin", args={"format": "csv"})
def daily_report(format: str = "csv") -> None:
    """Yesterday's sales as a CSV file, every weekday at 06:00 Berlin time."""
    path = jobext.result_path(f".{format}")
    path.write_text("region,sales\neu,1200\nus,980\n")
    jobext.records_written(2)


@jobext.job(name="shop-cleanup", schedule="@weekly", timeout_s=600, max_concurrent=1)
def cleanup(keep_days: int = 30) -> None:
    """Remove temporary files older than ``keep_days`` days."""
    print(f"removing files older than {keep_days} days")
