#!/usr/bin/env python3
"""Splits 1-waiter hand-offs into their steps, from bench/syscall_clock.cc's
stamps (see there for how to record them). Prints each step's median and
p90 in microseconds.

A hand-off here runs from the releaser's unlinkat of its entry to the end of
the woken waiter's renameat2 of the fence counter:

  unlink    the releaser's unlinkat (which queues the waiter's event)
  wake      to the end of the waiter's poll
  drain     to its listing's first getdents64 (reading the event, lseek)
  listing   to its renameat2 (the listing and the core's verdict)
  fence     the renameat2
"""
import os
import statistics
import struct
import sys

POLL_END, READ_END, LIST_BEGIN, LIST_END, MOVE_BEGIN, MOVE_END, UNLINK_BEGIN, UNLINK_END = range(1, 9)
STEPS = [("unlink", UNLINK_BEGIN, UNLINK_END, True),
         ("wake", UNLINK_END, POLL_END, False), ("drain", POLL_END, LIST_BEGIN, False),
         ("listing", LIST_BEGIN, MOVE_BEGIN, False), ("fence", MOVE_BEGIN, MOVE_END, False)]


def load(directory):
    stamps = []
    for name in os.listdir(directory):
        data = open(os.path.join(directory, name), "rb").read()
        (count,) = struct.unpack_from("q", data, 0)
        for i in range(count):
            ns, tag = struct.unpack_from("qq", data, 16 * (i + 1))
            stamps.append((ns, int(name), tag))
    stamps.sort()
    return stamps


def find(stamps, start, pid, tag, same_process):
    """The index of the next stamp `tag` at or after `start`, of process
    `pid` (same_process) or of any other."""
    for i in range(start, len(stamps)):
        if stamps[i][2] == tag and (stamps[i][1] == pid) == same_process:
            return i
    return None


def split(stamps):
    steps = {name: [] for name, _, _, _ in STEPS}
    i = 0
    while i < len(stamps):
        if stamps[i][2] != UNLINK_BEGIN:
            i += 1
            continue
        releaser, waiter, at, times = stamps[i][1], None, i, []
        for _, _, end_tag, by_releaser in STEPS:
            pid = releaser if by_releaser or waiter is None else waiter
            same = by_releaser or waiter is not None
            end = find(stamps, at, pid, end_tag, same)
            if end is None:
                return steps
            if end_tag == POLL_END:
                waiter = stamps[end][1]
            times.append((stamps[end][0] - stamps[at][0]) / 1000.0)
            at = end
        for (name, _, _, _), took in zip(STEPS, times):
            steps[name].append(took)
        i = at + 1
    return steps


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: handoff_split.py DIR (see bench/syscall_clock.cc)")
    steps = split(load(sys.argv[1]))
    total = 0.0
    for name, _, _, _ in STEPS:
        values = sorted(steps[name])
        if not values:
            sys.exit("no complete hand-off in the stamps: was it a 1-waiter lib run?")
        median = statistics.median(values)
        total += median
        print(f"{name:8s} n={len(values)} median {median:6.1f} us  p90 {values[len(values) * 9 // 10]:6.1f} us")
    print(f"sum of medians {total:.1f} us")


if __name__ == "__main__":
    main()
