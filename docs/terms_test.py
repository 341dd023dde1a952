"""Every hazard (H1..H10) and property (P1..P6) cited in the tree is defined
once in docs/protocol.md, and what protocol.md says handles each one exists.

Usage: terms_test.py PROTOCOL_MD

The tree is the checkout that PROTOCOL_MD's real path lies in (the test runs
unsandboxed: Bazel cannot list the whole checkout as its inputs). Checks:
  - each citation "H<n>" / "P<n>" (a whole word) in a source or document file
    has a definition "**H<n> ...**" in protocol.md;
  - no term is defined twice;
  - each repository path protocol.md names in backquotes exists, and each
    function named after a path (`core/contender.cc` `Contender::OnProbe`)
    is defined in that file, so a rename elsewhere cannot leave it stale;
  - each relative link in protocol.md resolves;
  - no file sends the reader to the design brief outside the repository.
Simulated processes are "process 0", "process 1" in prose: a "P1" is always
the property. The simulator's trace files (sim/testdata) name processes by a
P and their index and are not prose, so they are not read.
"""

import os
import re
import sys
import tempfile
import unittest

CITATION = re.compile(r"\b([HP])([0-9]+)\b")
DEFINITION = re.compile(r"^\*\*([HP][0-9]+) ", re.MULTILINE)
# A backquoted token, or the end of a "where" group (a path's functions
# follow it until the next ";" or ")").
TOKEN = re.compile(r"`([^`]+)`|[;)]")
REPO_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
FUNCTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$")
LINK = re.compile(r"\]\(([^)#\s]+)[^)]*\)")

SCANNED_SUFFIXES = (".cc", ".h", ".c", ".md", ".js", ".ts", ".py", ".sh", ".bzl", ".bazel",
                    ".1", ".txt", ".json", ".toml", ".in")
SKIPPED_DIRS = {".git", "node_modules", "third_party", "dist"}
# Not prose: fuzzer inputs, and the simulator's traces (see above).
SKIPPED_PATHS = ("fuzz/corpus", "sim/testdata")
PROTOCOL = "docs/protocol.md"
# The design brief the terms came from lives outside the repository; a
# reader sent there finds nothing.
OUTSIDE_DESIGN = "DESIGN" + ".md"


def scanned_files(root):
    for directory, subdirs, files in os.walk(root):
        relative_dir = os.path.relpath(directory, root)
        subdirs[:] = sorted(
            d for d in subdirs
            if d not in SKIPPED_DIRS and not d.startswith("bazel-") and
            os.path.normpath(os.path.join(relative_dir, d)) not in SKIPPED_PATHS)
        for name in sorted(files):
            if name.endswith(SCANNED_SUFFIXES) or name == "run":
                yield os.path.normpath(os.path.join(relative_dir, name))


def definitions(text, problems):
    defined = set()
    for term in DEFINITION.findall(text):
        if term in defined:
            problems.append("%s: %s is defined twice" % (PROTOCOL, term))
        defined.add(term)
    return defined


def check_citations(root, defined, problems):
    for path in scanned_files(root):
        if path == PROTOCOL:
            continue
        try:
            with open(os.path.join(root, path), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, 1):
            if OUTSIDE_DESIGN in line:
                problems.append("%s:%d: points to %s, which is not in the repository; point to "
                                "%s or to the file that explains it" % (path, number,
                                                                        OUTSIDE_DESIGN, PROTOCOL))
            for kind, digits in CITATION.findall(line):
                term = kind + digits
                if term not in defined:
                    problems.append("%s:%d: cites %s, which %s does not define; define it "
                                    "there or cite a defined term" % (path, number, term,
                                                                      PROTOCOL))


def function_defined(source, function):
    # The name as written, called or defined: "Contender::OnProbe(" or
    # "ProbeOwner(".
    return re.search(r"(?<![A-Za-z0-9_:])" + re.escape(function) + r"\s*\(", source)


def check_references(root, text, problems):
    current = None  # the file a function name refers to
    for match in TOKEN.finditer(text):
        token = match.group(1)
        if token is None:
            current = None
            continue
        if REPO_PATH.match(token):
            full = os.path.join(root, token)
            if not os.path.exists(full):
                problems.append("%s names %s, which does not exist" % (PROTOCOL, token))
                current = None
            else:
                current = full if os.path.isfile(full) else None
        elif current and FUNCTION.match(token):
            with open(current, encoding="utf-8") as f:
                source = f.read()
            if not function_defined(source, token):
                problems.append("%s names %s in %s, which has no such function" %
                                (PROTOCOL, token, os.path.relpath(current, root)))
    for target in LINK.findall(text):
        if "://" in target:
            continue
        if not os.path.exists(os.path.join(root, os.path.dirname(PROTOCOL), target)):
            problems.append("%s links to %s, which does not exist" % (PROTOCOL, target))


def check(root):
    """Returns the problems found in the tree at root, as messages."""
    problems = []
    with open(os.path.join(root, PROTOCOL), encoding="utf-8") as f:
        text = f.read()
    defined = definitions(text, problems)
    for kind, count in (("H", 10), ("P", 6)):
        for n in range(1, count + 1):
            if kind + str(n) not in defined:
                problems.append("%s does not define %s%d" % (PROTOCOL, kind, n))
    check_citations(root, defined, problems)
    check_references(root, text, problems)
    return problems


class TermsTest(unittest.TestCase):
    root = None

    def test_tree_cites_only_defined_terms(self):
        problems = check(self.root)
        self.assertEqual(problems, [], "\n".join(problems))


class CheckerTest(unittest.TestCase):
    """The checker itself, on small trees: it must be able to fail."""

    def make_tree(self, protocol, files):
        root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        for path, text in dict(files, **{PROTOCOL: protocol}).items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        return root

    def full_protocol(self, extra=""):
        terms = ["H%d" % n for n in range(1, 11)] + ["P%d" % n for n in range(1, 7)]
        return "".join("**%s term.** Defined.\n\n" % t for t in terms) + extra

    def test_accepts_citations_of_defined_terms(self):
        root = self.make_tree(self.full_protocol(), {"core/a.cc": "// safe (H8, P1)\n"})
        self.assertEqual(check(root), [])

    def test_reports_citation_of_undefined_term(self):
        root = self.make_tree(self.full_protocol(), {"core/a.cc": "// see H" + "11\n"})
        self.assertEqual(len(check(root)), 1)
        self.assertIn("core/a.cc:1: cites H" + "11,", check(root)[0])

    def test_reports_missing_and_duplicate_definitions(self):
        protocol = self.full_protocol().replace("**H4 term.**", "**H3 term.**")
        problems = check(self.make_tree(protocol, {}))
        self.assertIn("docs/protocol.md: H3 is defined twice", problems)
        self.assertIn("docs/protocol.md does not define H4", problems)

    def test_reports_stale_path_and_function(self):
        protocol = self.full_protocol(
            "Handled: (`core/a.cc` `Contender::OnProbe`, `Gone`; `core/b.cc`).\n")
        root = self.make_tree(protocol, {"core/a.cc": "Op Contender::OnProbe(int x) {}\n"})
        self.assertEqual(check(root), [
            "docs/protocol.md names Gone in core/a.cc, which has no such function",
            "docs/protocol.md names core/b.cc, which does not exist",
        ])

    def test_reports_pointer_to_the_design_brief_outside(self):
        root = self.make_tree(self.full_protocol(), {"README.md": "See " + OUTSIDE_DESIGN + "\n"})
        self.assertEqual(len(check(root)), 1)
        self.assertIn("README.md:1: points to", check(root)[0])

    def test_skips_simulator_traces(self):
        root = self.make_tree(self.full_protocol(), {"sim/testdata/t.txt": "P" + "0 and P" + "9\n"})
        self.assertEqual(check(root), [])


if __name__ == "__main__":
    protocol_md = os.path.realpath(sys.argv.pop(1))
    TermsTest.root = os.path.dirname(os.path.dirname(protocol_md))
    unittest.main()
