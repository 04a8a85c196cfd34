"""CPU accounting from /proc: who used the cores during a measured window.

The load generator, the server and PostgreSQL share the machine's cores, so requests/s alone do
not say where the time went. Times are user + system seconds; a window's figure is the
difference of two snapshots divided by its wall time (100 % = one core busy).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence

TCK = os.sysconf("SC_CLK_TCK")


def _table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, own + reaped children's seconds)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        table[int(name)] = (int(rest[1]), sum(int(x) for x in rest[11:15]) / TCK)
    return table


def tree_s(root: int) -> float:
    """Seconds of a process and all its descendants."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += table.get(pid, (0, 0.0))[1]
        stack.extend(children.get(pid, []))
    return total


def pids_s(pids: Sequence[int]) -> float:
    """Seconds of these processes (e.g. PostgreSQL backends), without descendants."""
    table = _table()
    return sum(table[pid][1] for pid in pids if pid in table)


def machine_s() -> float:
    """Busy seconds of the whole machine: user, nice, system, irq, softirq."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / TCK


def children_s() -> float:
    """Seconds of this process's finished children (wrk, ceiling.py)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_pct(seconds: float = 1.0) -> float:
    """Machine busy % (of one core) over the next ``seconds``."""
    before = machine_s()
    time.sleep(seconds)
    return 100 * (machine_s() - before) / seconds
