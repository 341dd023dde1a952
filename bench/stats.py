#!/usr/bin/env python3
"""Summarises the samples written by bench/run.sh into markdown tables.

    stats.py RESULTS_DIR        prints the summary (also written to RESULTS_DIR/summary.md)

RESULTS_DIR holds one directory per file system measured (tmpfs, ext4), each
with the files below; the summary has a section per file system and one
table of the targets of all of them.

Sample files are "<round> <value>" lines: RESULTS_DIR/cycle.<variant>.ns,
exec.<label>.ns, handoff.<mode>.w<waiters>.ns (+ .waiters). Strace counts are
syscalls.<label>.run.txt (and .base.txt for the per-cycle figures, see run.sh).
Percentiles are nearest-rank; ratios are of medians. Per-round ratios (the
median of each round's samples, divided) show how stable a ratio is.
"""
import math
import os
import sys


def load(path):
    rounds = {}
    values = []
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue
            r, v = int(parts[0]), int(parts[1])
            values.append(v)
            rounds.setdefault(r, []).append(v)
    if not values:
        return None
    return {"all": values, "rounds": rounds}


def pct(values, p):
    s = sorted(values)
    k = max(1, int(math.ceil(p / 100.0 * len(s))))
    return s[k - 1]


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def us(ns):
    return "%.1f" % (ns / 1000.0) if ns >= 10000 else "%.2f" % (ns / 1000.0)


def round_ratio_range(a, b):
    ratios = []
    for r in sorted(set(a["rounds"]) & set(b["rounds"])):
        ratios.append(median(a["rounds"][r]) / median(b["rounds"][r]))
    if len(ratios) < 2:
        return ""
    return "%.2f–%.2f" % (min(ratios), max(ratios))


def verdict(ok, text):
    return ("**met**" if ok else "**missed**") + (" (" + text + ")" if text else "")


class Report:
    def __init__(self, results):
        self.results = results
        self.lines = []
        self.targets = []

    def p(self, line=""):
        self.lines.append(line)

    def get(self, name):
        return load(os.path.join(self.results, name))

    def cycle(self):
        raw = self.get("cycle.raw.ns")
        if raw is None:
            self.p("No cycle samples.")
            return
        lib = {k: self.get("cycle.%s.ns" % k) for k in ("lib_reuse", "lib_fresh")}
        rows = [
            ("raw open+flock+close (C)", "raw", raw, "reference"),
            ("O_EXCL record file: create, write, close, unlink (C)", "excl", self.get("cycle.excl.ns"), "peer"),
            ("onlyone::Lock, reused", "lib_reuse", lib["lib_reuse"], "library"),
            ("onlyone::Lock, fresh per cycle", "lib_fresh", lib["lib_fresh"], "library"),
            ("Python filelock.FileLock, reused", "py_filelock", self.get("cycle.py_filelock.ns"), "peer"),
            ("Python filelock.FileLock, fresh", "py_filelock_fresh", self.get("cycle.py_filelock_fresh.ns"), "peer"),
            ("Python filelock.SoftFileLock, reused", "py_softfilelock", self.get("cycle.py_softfilelock.ns"), "peer"),
            ("Python filelock.SoftFileLock, fresh", "py_softfilelock_fresh",
             self.get("cycle.py_softfilelock_fresh.ns"), "peer"),
            ("Qt QLockFile, reused", "qt_qlockfile", self.get("cycle.qt_qlockfile.ns"), "peer"),
            ("Qt QLockFile, fresh", "qt_qlockfile_fresh", self.get("cycle.qt_qlockfile_fresh.ns"), "peer"),
            ("(context) Python os.open+fcntl.flock+os.close", "py_raw_flock", self.get("cycle.py_raw_flock.ns"),
             "context"),
        ]
        lib_ref = lib["lib_reuse"]
        self.p("| variant | n | median µs | p99 µs | ÷ raw flock (median) | per-round ÷ raw | peer ÷ onlyone reused |")
        self.p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, key, d, kind in rows:
            if d is None:
                self.p("| %s | – | not measured | | | | |" % label)
                continue
            m = median(d["all"])
            vs_raw = m / median(raw["all"])
            vs_lib = ""
            if kind in ("peer", "context") and lib_ref is not None:
                vs_lib = "%.2f" % (m / median(lib_ref["all"]))
            self.p("| %s | %d | %s | %s | %.2f | %s | %s |" % (
                label, len(d["all"]), us(m), us(pct(d["all"], 99)), vs_raw, round_ratio_range(d, raw), vs_lib))
        self.p()
        craw, cino = self.get("context.raw.ns"), self.get("context.inotify.ns")
        if craw is not None and cino is not None:
            self.p("Context (not a target): one inotify watch's life, `inotify_init1` + `inotify_add_watch` + "
                   "`close`, interleaved with the raw flock cycle: n=%d, median %s µs, p99 %s µs, %.1fx the raw "
                   "cycle's median (%s µs) in the same run." % (
                       len(cino["all"]), us(median(cino["all"])), us(pct(cino["all"], 99)),
                       median(cino["all"]) / median(craw["all"]), us(median(craw["all"]))))
            self.p()
        rusage = os.path.join(self.results, "cycle.rusage")
        if os.path.exists(rusage):
            self.p("Where the time goes: each variant run alone (getrusage around the timed cycles), per cycle:")
            self.p()
            self.p("| variant | cycles | wall µs (mean) | user CPU µs | system CPU µs | off CPU µs | voluntary switches "
                   "(sleeps) | involuntary switches |")
            self.p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for line in open(rusage):
                parts = line.split()
                if len(parts) != 7:
                    continue
                name, n = parts[0], float(parts[1])
                wall, user, system, vol, invol = (float(x) for x in parts[2:])
                self.p("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |" % (
                    name, n, wall / n / 1e3, user / n / 1e3, system / n / 1e3,
                    max(0.0, wall - user - system) / n / 1e3, vol / n, invol / n))
            self.p()
        # The targets of issue 14: the reused Lock against the peer that does
        # the same job (QLockFile: an owner record, stale detection) and
        # against the floor of any lock with an owner record (O_EXCL file).
        excl, qt = self.get("cycle.excl.ns"), self.get("cycle.qt_qlockfile.ns")
        if lib_ref is None:
            self.targets.append(("library cycle (reused Lock)", "not measured (no library build)"))
            return
        ml = median(lib_ref["all"])
        if qt is not None:
            r = ml / median(qt["all"])
            self.targets.append(("library cycle at most QLockFile's (tmpfs target)",
                                 verdict(r <= 1.0, "%s µs vs %s µs: %.2fx" % (us(ml), us(median(qt["all"])), r))))
        if excl is not None:
            r = ml / median(excl["all"])
            self.targets.append(("library cycle at most 2.5x the O_EXCL record cycle (ext4 target)",
                                 verdict(r <= 2.5, "%s µs vs %s µs: %.2fx" % (us(ml), us(median(excl["all"])), r))))

    def exec_(self):
        a, b = self.get("exec.onlyone.ns"), self.get("exec.flock1.ns")
        if b is None:
            self.p("No command samples.")
            return
        self.p("| command | n | median µs | p99 µs | ÷ flock(1) (median) | per-round ÷ flock(1) |")
        self.p("| --- | ---: | ---: | ---: | ---: | ---: |")
        rows = (("`flock -n FILE true`", b), ("`onlyone --dir DIR NAME -- true`", a),
                ("(context) `true` alone", self.get("exec.true.ns")),
                ("(context) empty C++ program with libstdc++ loaded", self.get("exec.cxx_empty.ns")))
        for label, d in rows:
            if d is None and label.startswith("(context)"):
                continue
            if d is None:
                self.p("| %s | – | not measured | | | |" % label)
                continue
            self.p("| %s | %d | %s | %s | %.2f | %s |" % (label, len(d["all"]), us(median(d["all"])),
                                                          us(pct(d["all"], 99)), median(d["all"]) / median(b["all"]),
                                                          round_ratio_range(d, b)))
        self.p()
        hf = os.path.join(self.results, "hyperfine.json")
        if os.path.exists(hf):
            import json
            data = json.load(open(hf))["results"]
            self.p("Cross-check with hyperfine -N (not interleaved: all runs of one command, then the other):")
            self.p()
            self.p("| command | runs | median µs | mean µs | σ µs | min µs | max µs |")
            self.p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for res in data:
                self.p("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
                    res["command"], len(res["times"]), res["median"] * 1e6, res["mean"] * 1e6,
                    res["stddev"] * 1e6, res["min"] * 1e6, res["max"] * 1e6))
            self.p()
        if a is None:
            self.targets.append(("command within 1.05x of flock(1)", "not measured (no command build)"))
        else:
            r = median(a["all"]) / median(b["all"])
            self.targets.append(("command within 1.05x of flock(1)", verdict(r <= 1.05, "%.2fx" % r)))

    def handoff(self):
        self.p("| waiters | lock | n | median µs | p99 µs | max µs | waiters at release (median, min) | median ÷ flock(2) |")
        self.p("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        any_data = False
        for w in (1, 64):
            f = self.get("handoff.flock.w%d.ns" % w)
            l = self.get("handoff.lib.w%d.ns" % w)
            for mode, d in (("flock(2) blocking", f), ("onlyone::Lock::Acquire", l)):
                if d is None:
                    self.p("| %d | %s | – | not measured | | | | |" % (w, mode))
                    continue
                any_data = True
                wt = self.get("handoff.%s.w%d.ns.waiters" % ("flock" if d is f else "lib", w))
                wtext = "%d, %d" % (median(wt["all"]), min(wt["all"])) if wt else ""
                ratio = "%.2f" % (median(d["all"]) / median(f["all"])) if f is not None else ""
                self.p("| %d | %s | %d | %s | %s | %s | %s | %s |" % (
                    w, mode, len(d["all"]), us(median(d["all"])), us(pct(d["all"], 99)), us(max(d["all"])), wtext,
                    ratio))
            if w == 1 and (l is None or f is None):
                self.targets.append(("hand-off median within 5x of flock(2), 1 waiter", "not measured"))
            elif w == 1:
                r = median(l["all"]) / median(f["all"])
                self.targets.append(("hand-off median within 5x of flock(2), 1 waiter",
                                     verdict(r <= 5.0, "%.2fx" % r)))
            if w == 64:
                if l is None:
                    self.targets.append(("hand-off p99 under 1 ms at 64 waiters", "not measured"))
                else:
                    p99 = pct(l["all"], 99)
                    self.targets.append(("hand-off p99 under 1 ms at 64 waiters",
                                         verdict(p99 < 1e6, "p99 %s µs over n=%d" % (us(p99), len(l["all"])))))
        self.p()
        if not any_data:
            self.p("No hand-off samples.")

    def syscalls(self):
        labels = []
        for name in sorted(os.listdir(self.results)):
            if name.startswith("syscalls.") and name.endswith(".run.txt"):
                labels.append(name[len("syscalls."):-len(".run.txt")])
        if not labels:
            return
        self.p("Per cycle (cycle-*: a run of N cycles minus a run of none, divided by N), per command run "
               "(cmd-*), or per acquisition in a hand-off run, all processes together (handoff-*: the calls of "
               "every process divided by the number of acquisitions, without the harness's own sleeps, futex, "
               "fork and reaping). Wall time is strace -w's time inside each syscall, per cycle, slowed by strace itself: "
               "read it as shares, not as absolute figures.")
        self.p()
        self.p("| measured | syscalls | of which | most wall time inside syscalls (µs per cycle) |")
        self.p("| --- | ---: | --- | --- |")
        for label in labels:
            run_path = os.path.join(self.results, "syscalls.%s.run.txt" % label)
            base_path = os.path.join(self.results, "syscalls.%s.base.txt" % label)
            n_path = os.path.join(self.results, "syscalls.%s.cycles" % label)
            cycles = 1
            if os.path.exists(n_path):
                cycles = int(open(n_path).read().strip() or "1")
            per = []
            for column in (3, 1):
                run = parse_strace(run_path, column)
                base = parse_strace(base_path, column) if os.path.exists(base_path) else {}
                values = {}
                for k in set(run) | set(base):
                    c = (run.get(k, 0) - base.get(k, 0)) / float(cycles)
                    if c >= (0.005 if column == 3 else 0.0):
                        values[k] = c
                per.append(values)
            counts, seconds = per
            if label.startswith("handoff"):
                for harness in HARNESS_SYSCALLS:
                    counts.pop(harness, None)
                    seconds.pop(harness, None)
            total = sum(counts.values())
            top = sorted(counts.items(), key=lambda kv: -kv[1])
            total_s = sum(v for v in seconds.values() if v > 0)
            slow = sorted(((k, v) for k, v in seconds.items() if v > 0 and k in counts), key=lambda kv: -kv[1])
            self.p("| %s | %s | %s | %s |" % (
                label, fmt_count(total), ", ".join("%s %s" % (k, fmt_count(v)) for k, v in top[:12]),
                ", ".join("%s %.0f (%.0f%%)" % (k, v * 1e6, 100.0 * v / total_s) for k, v in slow[:3])
                if total_s > 0 else ""))
        self.p()

    def fileops(self):
        path = os.path.join(self.results, "fileops.txt")
        if not os.path.exists(path):
            return
        rows = []
        for line in open(path):
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                rows.append((parts[0], int(parts[1]), int(parts[2])))
        if not rows:
            return
        raw = next((r for r in rows if r[0].startswith("raw_cycle")), None)
        self.p("Context: each file operation of one uncontended cycle timed on its own (bench/fileops_bench.cc, "
               "same file system; records of the library's size, 56 bytes, then a version 1 record's 220 bytes for "
               "comparison):")
        self.p()
        self.p("| operation | median µs | p99 µs | ÷ raw cycle (median) |")
        self.p("| --- | ---: | ---: | ---: |")
        cycle_sum = 0
        for name, med, p99 in rows:
            if not name.startswith("raw_cycle") and not name.startswith("v1_"):
                cycle_sum += med
            self.p("| %s | %s | %s | %s |" % (name.replace("_", " "), us(med), us(p99),
                                               "%.2f" % (med / float(raw[1])) if raw else ""))
        if raw:
            self.p("| **sum of the cycle's operations (medians)** | %s | | %.2f |" % (us(cycle_sum),
                                                                                   cycle_sum / float(raw[1])))
        self.p()

    def perf(self):
        path = os.path.join(self.results, "perf.lib_reuse.dso.txt")
        if not os.path.exists(path):
            return
        shares = []
        for line in open(path):
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith("%"):
                shares.append("%s %s" % (parts[1], parts[0]))
        if shares:
            self.p("CPU samples of the reused-Lock cycle by binary (perf record): " + ", ".join(shares[:6]) + ".")
            self.p()

    def sections(self):
        """The tables of one file system's results, headed at level 3."""
        self.p("### 1. Uncontended acquire+release cycle")
        self.p()
        self.cycle()
        self.p("### 2. Command: `onlyone NAME -- true` vs `flock -n FILE true` (interleaved)")
        self.p()
        self.exec_()
        self.p("### 3. Hand-off latency (release → next waiter running)")
        self.p()
        self.handoff()
        if any(n.startswith("syscalls.") for n in os.listdir(self.results)):
            self.p("### 4. System calls (strace -c -f)")
            self.p()
            self.syscalls()
        self.fileops()
        self.perf()


def render(results, meta):
    """Every file system's sections (results/tmpfs, results/ext4), then the
    targets of all of them in one table; a flat results directory (an older
    run) is one section."""
    lines = ["# Benchmark results", ""]
    if meta:
        lines += ["```", meta.rstrip(), "```", ""]
    found = [fs for fs in ("tmpfs", "ext4") if os.path.isdir(os.path.join(results, fs))]
    parts = [(fs, os.path.join(results, fs)) for fs in found] or [("", results)]
    targets = []
    for fs, path in parts:
        report = Report(path)
        if fs:
            lines += ["## On %s" % fs, ""]
        report.sections()
        lines += report.lines
        targets += [(("%s: " % fs if fs else "") + name, result) for name, result in report.targets]
    if "ext4" not in found and "skipped:" in meta:
        lines += ["## On ext4", "", "Not measured: " + meta.split("skipped:", 1)[1].strip().splitlines()[0], ""]
    lines += ["## Targets", "", "| target | result |", "| --- | --- |"]
    lines += ["| %s | %s |" % t for t in targets]
    return "\n".join(lines) + "\n"


# The hand-off harness's own calls (sleeps, futex hand-shake, reaping, fork,
# output), left out of the per-acquisition counts.
HARNESS_SYSCALLS = ("clock_nanosleep", "nanosleep", "futex", "wait4", "clone", "clone3", "exit_group", "write",
                    "execve", "mmap", "munmap", "mprotect", "brk", "set_robust_list", "rseq", "arch_prctl",
                    "prlimit64", "set_tid_address")


def fmt_count(c):
    return "%d" % round(c) if abs(c - round(c)) < 0.05 else "%.1f" % c


def parse_strace(path, column=3):
    """Calls (column 3) or seconds (column 1) per syscall from `strace -c` output."""
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 5 or parts[-1] == "total" or not parts[3].isdigit():
                continue
            value = int(parts[3]) if column == 3 else float(parts[column])
            counts[parts[-1]] = counts.get(parts[-1], 0) + value
    return counts


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = sys.argv[1]
    meta_path = os.path.join(results, "meta.txt")
    meta = open(meta_path).read() if os.path.exists(meta_path) else ""
    text = render(results, meta)
    with open(os.path.join(results, "summary.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
