"""The prober of ``bench stall``, as a process of its own: ``GET url`` every ``every`` s.

    python -m bench.probe URL TOKEN EVERY

It prints ``ready`` once connected, probes until its standard input is closed, then prints one
JSON line: ``{"samples": [[sent_at, latency], ...], "errors": n}``.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import requests


def main(url: str, token: str, every: float) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    session.trust_env = False  # no proxies for 127.0.0.1
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    session.get(url, timeout=30)  # the connection, before the measured probes
    print("ready", flush=True)
    samples: list[tuple[float, float]] = []
    errors = 0
    due = time.perf_counter()
    while not stop.is_set():
        sent, sent_at = time.perf_counter(), time.time()
        try:
            session.get(url, timeout=30).raise_for_status()
            samples.append((sent_at, time.perf_counter() - sent))
        except requests.RequestException:
            errors += 1
        due = max(due + every, time.perf_counter())
        stop.wait(max(0.0, due - time.perf_counter()))
    session.close()
    print(json.dumps({"samples": samples, "errors": errors}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
