#!/usr/bin/env python3
"""Summarises the zk part of bench/run.sh (RESULTS_DIR/zk.txt) as markdown,
appended to RESULTS_DIR/summary.md and printed.

    zk_summary.py RESULTS_DIR

zk.txt has one line per run: "zk <mode> <lock> n=.. median_us=.. p99_us=.. key=value...".
Each round ran ZkLock then kazoo's Lock back to back on the same server, so
the ratio per round is the figure; the spread of the ratios shows how stable
it is on a shared machine.
"""
import os
import statistics
import sys


def parse(path):
    runs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4 or parts[0] != "zk":
                continue
            fields = dict(p.split("=", 1) for p in parts[3:])
            mode = parts[1]
            if mode == "handoff":
                mode += "-%s" % fields.get("contenders", "2")
            runs.append((mode, parts[2], {k: float(v) for k, v in fields.items()}))
    return runs


def main():
    results = sys.argv[1]
    path = os.path.join(results, "zk.txt")
    if not os.path.exists(path):
        return 0
    runs = parse(path)
    out = ["", "## 5. ZooKeeper: onlyone's ZkLock vs kazoo's Lock (same server, same run)", ""]
    for mode, title in (("cycle", "Uncontended acquire+release"),
                        ("handoff-2", "Hand-off, 2 contenders (release -> the other one running)"),
                        ("handoff-8", "Hand-off, 8 contenders: 7 waiting at each release (release -> the next one running)")):
        ours = [f for m, lock, f in runs if m == mode and lock == "onlyone"]
        peers = [f for m, lock, f in runs if m == mode and lock == "kazoo"]
        if not ours or not peers:
            continue
        out += ["### " + title, "",
                "| lock | rounds | n per round | median µs (median of rounds) | p99 µs (worst round) | extra |",
                "| --- | ---: | ---: | ---: | ---: | --- |"]
        for name, fields in (("onlyone ZkLock", ours), ("kazoo Lock", peers)):
            extra = []
            for key in ("requests_per_acquire", "requests_per_release", "notifications_per_release",
                        "server_packets_per_cycle"):
                values = [f[key] for f in fields if key in f]
                if values:
                    extra.append("%s %.2f" % (key.replace("_", " "), statistics.median(values)))
            out.append("| %s | %d | %d | %.0f | %.0f | %s |" % (
                name, len(fields), int(fields[0]["n"]), statistics.median(f["median_us"] for f in fields),
                max(f["p99_us"] for f in fields), ", ".join(extra)))
        ratios = [o["median_us"] / p["median_us"] for o, p in zip(ours, peers)]
        out += ["", "onlyone ÷ kazoo (median per round): %s; median %.2f" % (
            ", ".join("%.2f" % r for r in ratios), statistics.median(ratios)), ""]
    text = "\n".join(out) + "\n"
    with open(os.path.join(results, "summary.md"), "a") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
