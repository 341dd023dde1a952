"""A public header includes only public headers.

Usage: public_headers_test.py DIRECT_HEADERS_LIST PUBLIC_HEADER...

PUBLIC_HEADER...: the headers a consumer may include (//:public_headers).
DIRECT_HEADERS_LIST: the headers the public C++ targets declare (their hdrs).
Checks that each of those is in the public list, and that every header the
public ones include with quotes (the repository's own headers) is public
too; as each included header is then checked in turn, this holds
transitively. A private header reached from a public one would leave a
consumer unable to compile once that header moves or changes.
"""

import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.MULTILINE)
# The directories of this repository: an angle-bracket include of one of
# them is a project header too, however it is spelled.
PROJECT_DIRS = ("core/", "platform/", "cli/", "sim/", "tests/", "fuzz/", "bench/")


def main(argv):
    direct_list, public = argv[1], argv[2:]
    public_set = set(public)
    problems = []
    with open(direct_list) as f:
        for header in f.read().split():
            if header not in public_set:
                problems.append("%s is in the hdrs of a public target but not in "
                                "//:public_headers" % header)
    for header in public:
        with open(header) as f:
            text = f.read()
        for kind, included in INCLUDE.findall(text):
            own = kind == '"' or included.startswith(PROJECT_DIRS)
            if own and included not in public_set:
                problems.append("%s includes %s, which is not public (add it to "
                                "//:public_headers with a public target, or stop "
                                "including it)" % (header, included))
    for problem in problems:
        print("public_headers_test: " + problem, file=sys.stderr)
    if not problems:
        print("public_headers_test: %d public headers include only public headers"
              % len(public))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
