"""Spark in local mode, as the sandbox runs the streaming job and the hourly runner, listens on the loopback
address only: every TCP socket a process of this test run listens on (the JVM's driver, block manager and
Py4J gateway included) is read from /proc/net/tcp and /proc/net/tcp6."""

from __future__ import annotations

import os
import re
from pathlib import Path

LISTEN = "0A"


def process_tree(root: int) -> list[int]:
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    tree = [root]
    for pid in tree:
        tree += [child for child, ppid in parent.items() if ppid == pid]
    return tree


def address(hex_address: str) -> str:
    """/proc/net/tcp's little-endian words as text; IPv6 as eight hex groups."""
    raw = b"".join(bytes.fromhex(hex_address[i:i + 8])[::-1] for i in range(0, len(hex_address), 8))
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    return ":".join(format(int.from_bytes(raw[i:i + 2], "big"), "x") for i in range(0, 16, 2))


def listening_addresses(pids: list[int]) -> list[tuple[int, str, int]]:
    by_inode = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == LISTEN:
                hex_address, hex_port = f[1].split(":")
                by_inode[f[9]] = (address(hex_address), int(hex_port, 16))
    found = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                continue
            if m and m[1] in by_inode:
                found.append((pid, *by_inode[m[1]]))
    return found


def is_loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr == "0:0:0:0:0:0:0:1" or addr.startswith("0:0:0:0:0:ffff:7f")


def test_the_local_spark_session_listens_on_the_loopback_address_only(spark):
    spark.range(10).selectExpr("sum(id)").collect()  # the block manager and a Python-free job have run
    sockets = listening_addresses(process_tree(os.getpid()))
    assert sockets, "the JVM's driver listens on some port"
    assert [s for s in sockets if not is_loopback(s[1])] == []
