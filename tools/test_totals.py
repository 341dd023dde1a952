#!/usr/bin/env python3
"""Totals of a `bazel test` run, from the JUnit XML files Bazel keeps.

Prints any per-target problems, then exactly one final line

    N passed, N failed            (", N skipped" is appended when N > 0)

and exits 1 if anything failed, else 0. Python 3 standard library only.

With --label NAME (one pass of several, e.g. the ASan+UBSan pass of
./run test) the last line is "NAME: N tests passed, N failed" instead, so
that only the caller's sum reads as the closing totals line, and
--counts-out FILE receives "PASSED FAILED SKIPPED" for that sum.

Which test.xml files are counted
--------------------------------
Preferred: the Build Event Protocol file of the run (`bazel test
--build_event_json_file=FILE`, passed as --bep FILE). It names, for every test
target of *this* run, the test.xml of each run/shard (last attempt only, so
flaky retries are not double counted), whether the result came from the cache
or not, and Bazel's verdict. Stale test.xml files left in bazel-testlogs by
targets that no longer exist, or that failed to build this time, are never
read.

--targets FILE (one label per line, e.g. from `bazel query 'tests(//...)'`)
adds the targets that must have a result: a listed target with no result in
the BEP (it failed to build, or was never run) counts as 1 failed.

Without --bep, the test.xml paths are computed from --targets under
--testlogs (default: bazel-testlogs); a missing file counts as 1 failed.

Counting
--------
Each <testcase> is one test: failed if it has a <failure> or <error> child,
skipped if it has <skipped> or gtest's status="notrun" (disabled tests),
otherwise passed. If Bazel says a test action did not pass (crash after the
XML was written, sanitizer error at exit, timeout, ...) but its XML shows no
failure, that action counts as 1 extra failure. If Bazel itself exited with
an error (e.g. a non-test target failed to build) and nothing else failed,
that counts as 1 failure too.
"""

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

# Bazel exit codes: 0 success, 3 some tests failed, 4 no tests found.
BAZEL_OK_EXIT_CODES = (0, 4)
PASSING_STATUSES = ("PASSED", "FLAKY")


class Totals:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.notes = []

    def add(self, other):
        self.passed += other[0]
        self.failed += other[1]
        self.skipped += other[2]


def count_xml(path):
    """Returns (passed, failed, skipped) for one JUnit XML file; raises on error."""
    root = ET.parse(path).getroot()
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        if "failure" in tags or "error" in tags:
            failed += 1
        elif (
            "skipped" in tags
            or case.get("status") == "notrun"
            or case.get("result") in ("skipped", "suppressed")
        ):
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def uri_to_path(uri):
    if uri.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlparse(uri).path)
    return uri


def read_bep(path):
    """Returns {label: {"attempts": {(config, run, shard): (attempt, status, xml)},
    "status": overall status or None}} from a BEP JSON file."""
    tests = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue  # truncated last line if Bazel was killed
            eid = event.get("id", {})
            if "testResult" in eid:
                rid = eid["testResult"]
                label = rid.get("label", "")
                entry = tests.setdefault(label, {"attempts": {}, "status": None})
                key = (
                    rid.get("configuration", {}).get("id", ""),
                    int(rid.get("run", 0)),
                    int(rid.get("shard", 0)),
                )
                attempt = int(rid.get("attempt", 0))
                result = event.get("testResult", {})
                xml = None
                for out in result.get("testActionOutput", []):
                    if out.get("name") == "test.xml":
                        xml = uri_to_path(out.get("uri", ""))
                status = result.get("status", "NO_STATUS")
                old = entry["attempts"].get(key)
                if old is None or attempt >= old[0]:
                    entry["attempts"][key] = (attempt, status, xml)
            elif "testSummary" in eid:
                label = eid["testSummary"].get("label", "")
                entry = tests.setdefault(label, {"attempts": {}, "status": None})
                entry["status"] = event.get("testSummary", {}).get(
                    "overallStatus", "NO_STATUS"
                )
    return tests


def read_targets(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip().startswith(("//", "@"))]


def label_to_testlogs_dir(testlogs, label):
    if label.startswith("@"):
        return None  # external repositories live elsewhere; not supported
    pkg, _, name = label[2:].partition(":")
    if not name:
        name = pkg.rsplit("/", 1)[-1]
    return os.path.join(testlogs, pkg, name)


def count_target_from_testlogs(totals, testlogs, label):
    """Fallback without BEP: test.xml (or its shard/run subdirectories)."""
    base = label_to_testlogs_dir(testlogs, label)
    xmls = []
    if base and os.path.isfile(os.path.join(base, "test.xml")):
        xmls.append(os.path.join(base, "test.xml"))
    elif base and os.path.isdir(base):
        for sub in sorted(os.listdir(base)):
            p = os.path.join(base, sub, "test.xml")
            if (sub.startswith("shard_") or sub.startswith("run_")) and os.path.isfile(p):
                xmls.append(p)
    if not xmls:
        totals.failed += 1
        totals.notes.append("FAILED: %s (no test.xml: failed to build or not run)" % label)
        return
    for p in xmls:
        try:
            totals.add(count_xml(p))
        except (ET.ParseError, OSError) as e:
            totals.failed += 1
            totals.notes.append("FAILED: %s (unreadable %s: %s)" % (label, p, e))


def count_target_from_bep(totals, label, entry):
    attempts = entry["attempts"] if entry else {}
    if not attempts:
        totals.failed += 1
        totals.notes.append("FAILED: %s (no test result: failed to build or not run)" % label)
        return
    for key in sorted(attempts):
        _, status, xml = attempts[key]
        where = "" if len(attempts) == 1 else " [run %d, shard %d]" % key[1:]
        counts = None
        if xml and os.path.isfile(xml):
            try:
                counts = count_xml(xml)
            except (ET.ParseError, OSError) as e:
                totals.notes.append("note: %s%s: unreadable test.xml: %s" % (label, where, e))
        if counts is None:
            counts = (0, 0, 0)
        totals.add(counts)
        if status not in PASSING_STATUSES:
            if counts[1] == 0:
                totals.failed += 1
            totals.notes.append("FAILED: %s%s (%s)" % (label, where, status.lower()))
        elif counts == (0, 0, 0) and not xml:
            totals.notes.append("note: %s%s passed but wrote no test.xml" % (label, where))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bep", help="BEP JSON file of the bazel test run")
    ap.add_argument("--targets", help="file with the test labels that must have a result")
    ap.add_argument("--testlogs", default="bazel-testlogs",
                    help="bazel-testlogs directory (only used without --bep)")
    ap.add_argument("--bazel-exit-code", type=int, default=None,
                    help="exit code of `bazel test`; an error counts as a failure")
    ap.add_argument("--label", help="name of this pass; see above")
    ap.add_argument("--counts-out", help="file to write 'PASSED FAILED SKIPPED' to")
    args = ap.parse_args(argv)

    totals = Totals()
    targets = read_targets(args.targets) if args.targets else []

    bep = None
    if args.bep:
        try:
            bep = read_bep(args.bep)
        except OSError as e:
            totals.notes.append("note: cannot read BEP file %s: %s" % (args.bep, e))

    if bep is not None:
        labels = sorted(set(targets) | {l for l in bep if l})
        for label in labels:
            count_target_from_bep(totals, label, bep.get(label))
    else:
        for label in sorted(set(targets)):
            count_target_from_testlogs(totals, args.testlogs, label)

    code = args.bazel_exit_code
    if code is not None and code not in BAZEL_OK_EXIT_CODES and totals.failed == 0:
        totals.failed += 1
        totals.notes.append(
            "FAILED: bazel exited with code %d (a non-test target failed to build?)" % code
        )

    for note in totals.notes:
        print(note)
    if args.counts_out:
        with open(args.counts_out, "w", encoding="utf-8") as f:
            f.write("%d %d %d\n" % (totals.passed, totals.failed, totals.skipped))
    if args.label:
        line = "%s: %d tests passed, %d failed" % (args.label, totals.passed, totals.failed)
    else:
        line = "%d passed, %d failed" % (totals.passed, totals.failed)
    if totals.skipped:
        line += ", %d skipped" % totals.skipped
    print(line)
    sys.stdout.flush()
    return 1 if totals.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
