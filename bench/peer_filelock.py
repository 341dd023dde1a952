#!/usr/bin/env python3
"""Uncontended acquire+release cycle of Python's filelock (Debian python3-filelock).

    peer_filelock.py --dir DIR --out PREFIX [--round R] [--cycles N] [--batch B] [--warmup W]

Variants, each cycle timed on its own with time.perf_counter_ns() (CLOCK_MONOTONIC):
  py_filelock        one filelock.FileLock (flock(2) based): acquire(timeout=0) + release()
  py_filelock_fresh  a new FileLock per cycle
  py_softfilelock    one filelock.SoftFileLock (O_CREAT|O_EXCL file, unlinked on release)
  py_softfilelock_fresh  a new SoftFileLock per cycle
  py_raw_flock       os.open + fcntl.flock(LOCK_EX|LOCK_NB) + os.close: the interpreter's floor
Variants take turns in batches (order rotating), like cycle_bench. Samples are
appended to PREFIX.<variant>.ns as "<round> <ns>" lines.
"""
import argparse
import fcntl
import os
import sys
import time

import filelock


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--out", default="")
    parser.add_argument("--round", type=int, default=0)
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    hard_path = os.path.join(args.dir, "py-filelock.lock")
    soft_path = os.path.join(args.dir, "py-softfilelock.lock")
    raw_path = os.path.join(args.dir, "py-raw.lock")
    hard = filelock.FileLock(hard_path)
    soft = filelock.SoftFileLock(soft_path)
    clock = time.perf_counter_ns

    def cycle_hard():
        t = clock()
        hard.acquire(timeout=0)
        hard.release()
        return clock() - t

    def cycle_hard_fresh():
        t = clock()
        lock = filelock.FileLock(hard_path)
        lock.acquire(timeout=0)
        lock.release()
        return clock() - t

    def cycle_soft():
        t = clock()
        soft.acquire(timeout=0)
        soft.release()
        return clock() - t

    def cycle_soft_fresh():
        t = clock()
        lock = filelock.SoftFileLock(soft_path)
        lock.acquire(timeout=0)
        lock.release()
        return clock() - t

    def cycle_raw():
        t = clock()
        fd = os.open(raw_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
        return clock() - t

    variants = [
        ("py_filelock", cycle_hard),
        ("py_filelock_fresh", cycle_hard_fresh),
        ("py_softfilelock", cycle_soft),
        ("py_softfilelock_fresh", cycle_soft_fresh),
        ("py_raw_flock", cycle_raw),
    ]
    samples = {name: [] for name, _ in variants}
    for _, fn in variants:
        for _ in range(args.warmup):
            fn()
    done = 0
    first = 0
    while done < args.cycles:
        n = min(args.batch, args.cycles - done)
        for k in range(len(variants)):
            name, fn = variants[(first + k) % len(variants)]
            out = samples[name]
            for _ in range(n):
                out.append(fn())
        done += n
        first = (first + 1) % len(variants)
    for name, _ in variants:
        values = samples[name]
        if args.out:
            with open(args.out + "." + name + ".ns", "a") as f:
                f.write("".join("%d %d\n" % (args.round, v) for v in values))
        values = sorted(values)
        print("peer_filelock: round %d %-22s n=%d median=%.2fus"
              % (args.round, name, len(values), values[len(values) // 2] / 1000.0), file=sys.stderr)
    print("peer_filelock: filelock %s" % filelock.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
