"""Summarise a py-spy ``--format raw`` profile (collapsed stacks): where the samples fall.

    python -m bench.profile_summary bench/results/profiles/logs.txt [--match jobext] [--top 30]

Prints the functions with the most samples *inclusive* (anywhere on the stack) and *self*
(innermost frame), as a share of the samples of the busy thread(s); idle samples (the event loop
waiting in ``select``/``epoll``) are counted separately.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

#: Innermost frames of threads that wait rather than work (py-spy may still sample them).
IDLE_FRAMES = ("select (selectors.py", "wait (threading.py", "_do_waitpid (unix_events.py")


def _idle(frames: list[str]) -> bool:
    return bool(frames) and frames[-1].startswith(IDLE_FRAMES)


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def summarise(path: Path, *, match: str | None, top: int) -> str:
    stacks = load(path)
    total = sum(c for _, c in stacks)
    idle = sum(c for frames, c in stacks if _idle(frames))
    busy = total - idle
    inclusive: collections.Counter[str] = collections.Counter()
    selfish: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        if _idle(frames):
            continue
        seen = set()
        for f in frames:
            name = _short(f)
            if name not in seen:
                seen.add(name)
                inclusive[name] += count
        selfish[_short(frames[-1])] += count
    lines = [f"{path}: {total} samples, {idle} idle, {busy} busy", "", "inclusive (busy share):"]
    for name, count in inclusive.most_common():
        if match and match not in name:
            continue
        lines.append(f"  {100 * count / max(busy, 1):5.1f}%  {name}")
        if len(lines) > top + 3:
            break
    lines += ["", "self (busy share):"]
    for name, count in selfish.most_common(top):
        lines.append(f"  {100 * count / max(busy, 1):5.1f}%  {name}")
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py:123)"
    m = re.match(r"^(.*) \((.*?)(:\d+)?\)$", frame)
    if not m:
        return frame
    func, file, _line = m.group(1), m.group(2), m.group(3) or ""
    parts = file.split("/")
    file = "/".join(parts[parts.index("jobext") :]) if "jobext" in parts else parts[-1]
    return f"{func} ({file})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--match", help="only list inclusive entries containing this text")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    print(summarise(args.profile, match=args.match, top=args.top))


if __name__ == "__main__":
    main()
