"""Every C++ target of the repository takes its flags from tools/copts.bzl.

Usage: copts_test.py COPTS_BZL

The tree is the checkout that COPTS_BZL's real path lies in (the test runs
unsandboxed: Bazel cannot list every BUILD file as its inputs). In each
BUILD.bazel and .bzl file, every cc_library, cc_binary and cc_test with
sources must have `copts = COPTS` (optionally `+` named additions from
copts.bzl), so that no package grows a flag list of its own again and no
target, tests included, builds without -Werror.

Not checked: examples/bazel_consumer (a separate workspace showing how a
consumer uses onlyone), and the wasm toolchain's own flags.
"""

import os
import re
import sys
import tempfile
import unittest

RULE = re.compile(r"\b(cc_library|cc_binary|cc_test)\(")
COPTS_ATTR = re.compile(r"\bcopts = ([^\n]*)")
ALLOWED_COPTS = re.compile(r"^COPTS( \+ [A-Z_]+)*,$")
SKIPPED = ("examples/bazel_consumer", "platform/wasi/toolchain", "third_party")


def build_files(root):
    for directory, subdirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "bazel-")) and
                            os.path.normpath(os.path.join(relative, d)) not in SKIPPED and
                            d != "node_modules")
        for name in sorted(files):
            if name in ("BUILD.bazel", "BUILD") or name.endswith(".bzl"):
                yield os.path.normpath(os.path.join(relative, name))


def call_body(text, start):
    """The text of the call whose "(" is at text[start - 1], up to its ")"."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return text[start:]


def check(root):
    problems = []
    for path in build_files(root):
        if path == "tools/copts.bzl":
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        for match in RULE.finditer(text):
            body = call_body(text, match.end())
            if "srcs =" not in body:
                continue  # headers only, or a link of other targets: nothing compiled
            line = text.count("\n", 0, match.start()) + 1
            copts = COPTS_ATTR.search(body)
            if not copts:
                problems.append("%s:%d: %s without copts: add copts = COPTS from "
                                "//tools:copts.bzl" % (path, line, match.group(1)))
            elif not ALLOWED_COPTS.match(copts.group(1).strip()):
                problems.append("%s:%d: copts = %s: use COPTS plus named additions from "
                                "//tools:copts.bzl (add one there, with its reason)" %
                                (path, line, copts.group(1).strip()))
    return problems


class CoptsTest(unittest.TestCase):
    root = None

    def test_every_cc_target_takes_copts_from_the_one_definition(self):
        problems = check(self.root)
        self.assertEqual(problems, [], "\n".join(problems))


class CheckerTest(unittest.TestCase):
    """The checker itself, on small trees: it must be able to fail."""

    def problems_in(self, build):
        root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        os.makedirs(os.path.join(root, "x"))
        with open(os.path.join(root, "x", "BUILD.bazel"), "w", encoding="utf-8") as f:
            f.write(build)
        return check(root)

    def test_accepts_copts_with_named_additions(self):
        self.assertEqual(self.problems_in(
            'cc_test(\n    name = "t",\n    srcs = ["t.cc"],\n'
            '    copts = COPTS + OPTIMIZED,\n    args = ["$(location :d)"],\n)\n'
            'cc_library(\n    name = "h",\n    hdrs = ["h.h"],\n)\n'), [])

    def test_reports_a_target_without_copts(self):
        self.assertEqual(self.problems_in('cc_test(\n    name = "t",\n    srcs = ["t.cc"],\n)\n'),
                         ["x/BUILD.bazel:1: cc_test without copts: add copts = COPTS from "
                          "//tools:copts.bzl"])

    def test_reports_a_flag_list_of_its_own(self):
        problems = self.problems_in(
            'cc_binary(\n    name = "b",\n    srcs = ["b.cc"],\n    copts = ["-Wall"],\n)\n')
        self.assertEqual(len(problems), 1)
        self.assertIn('copts = ["-Wall"],', problems[0])


if __name__ == "__main__":
    CoptsTest.root = os.path.dirname(os.path.dirname(os.path.realpath(sys.argv.pop(1))))
    unittest.main()
