"""The command's options and exit codes agree wherever they are written.

Usage: cli_docs_test.py ONLYONE ARGS_CC EXIT_CODES_H MAN_PAGE README COMPLETION

The sources of truth are the code: the options cli/args.cc accepts, with the
argument each takes as `onlyone --help` shows it, and the exit codes of
cli/exit_codes.h. Checked against them:
  - `onlyone --help`: lists every accepted option (flock(1)'s extra spellings
    of -n excepted, which the man page names), and only accepted ones; its
    exit status paragraph names every code of exit_codes.h;
  - the man page (docs/onlyone.1): OPTIONS has one entry per option of
    --help, with the same short form and argument; EXIT STATUS has one entry
    per code, with its sysexits(3) name;
  - the README: its options table and exit status table, the same way;
  - the bash completion (packaging/debian): it offers every option of --help
    and no other, and completes nothing after one that takes a value it
    cannot guess.
"""

import re
import shlex
import subprocess
import sys
import unittest

# "-w, --timeout SECONDS", "--wait[=DURATION]", "--json": short, long, argument.
OPTION = re.compile(r"^(?:-(\w), )?(--[a-z][a-z-]*)(\[=[A-Z]+\]| [A-Z][^ ]*)?$")
ACCEPTED_LONG = re.compile(r'option == "(--[a-z-]+)"')
ACCEPTED_SHORT = re.compile(r"letter == '(\w)'")
EXIT_CODE = re.compile(r"constexpr int (kExit\w+) =\s*(\d+);\s*//\s*(EX_[A-Z]+)?")


def parse_option(text, where, problems):
    match = OPTION.match(text)
    if not match:
        problems.append("%s: cannot read option %r" % (where, text))
        return None
    short, long_name, argument = match.groups()
    return long_name, (short, (argument or "").strip())


def help_options(help_text, problems):
    """{long: (short, argument)} from the Options: section of --help."""
    options = {}
    section = help_text.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
    for line in section.splitlines():
        if not line.lstrip().startswith("-"):
            continue  # a description's continuation
        # The option ends where the description starts: two spaces, or one
        # space before a lower-case word ("-E, --conflict-exit-code N exit").
        text = re.split(r"  +| (?=[a-z(])", line.strip(), maxsplit=1)[0]
        parsed = parse_option(text, "--help", problems)
        if parsed:
            options[parsed[0]] = parsed[1]
    return options


def troff_text(line):
    """The text a man page macro line shows: ".BR \\-n , \\-\\-x" -> "-n, --x"."""
    macro, _, rest = line.partition(" ")
    words = shlex.split(rest.replace("\\", "\\\\"), posix=True) if macro in (
        ".B", ".BR", ".BI", ".IR", ".RB", ".I") else [rest]
    text = "".join(words) if macro != ".B" else " ".join(words)
    text = re.sub(r"\\f[BIRP]", "", text)
    return text.replace("\\-", "-").replace("\\(aq", "'")


def man_section(man, title):
    return man.split("\n.SH %s\n" % title, 1)[1].split("\n.SH ", 1)[0]


def man_options(man, problems):
    options = {}
    lines = man_section(man, "OPTIONS").splitlines()
    for i, line in enumerate(lines[:-1]):
        if line == ".TP":
            parsed = parse_option(troff_text(lines[i + 1]), "onlyone.1", problems)
            if parsed:
                options[parsed[0]] = parsed[1]
    return options


def man_exit_codes(man):
    """{code: text of its entry} from EXIT STATUS."""
    codes = {}
    for entry in ("\n" + man_section(man, "EXIT STATUS")).split("\n.TP\n")[1:]:
        tag, _, body = entry.partition("\n")
        if tag.startswith(".B ") and tag[3:].isdigit():
            codes[int(tag[3:])] = body
    return codes


def readme_section(readme, title):
    return readme.split("\n### %s\n" % title, 1)[1].split("\n### ", 1)[0]


def readme_options(readme, problems):
    options = {}
    for line in readme_section(readme, "Options").splitlines():
        if not line.startswith("| `-"):
            continue
        short = None
        for token in re.findall(r"`([^`]+)`", line.split(" | ", 1)[0]):
            if re.fullmatch(r"-\w", token):
                short = token
                continue
            text = ("%s, %s" % (short, token)) if short else token
            parsed = parse_option(text, "README.md", problems)
            if parsed:
                options[parsed[0]] = parsed[1]
            short = None
    return options


def readme_exit_codes(readme):
    codes = {}
    for line in readme_section(readme, "Exit status").splitlines():
        match = re.match(r"^\| (\d+) \| (.*) \|$", line)
        if match:
            codes[int(match.group(1))] = match.group(2)
    return codes


def header_exit_codes(header):
    """{code: sysexits name or None} of the codes onlyone itself returns."""
    codes = {}
    for name, value, sysexits in EXIT_CODE.findall(header):
        if name in ("kExitOk", "kExitSignalBase"):
            continue  # the command's own status, and 128+N: written as ranges
        codes[int(value)] = sysexits or None
    return codes


def compare_options(truth, other, where, problems):
    for long_name, (short, argument) in sorted(truth.items()):
        if long_name not in other:
            problems.append("%s does not describe %s" % (where, long_name))
        elif other[long_name] != (short, argument):
            problems.append("%s writes %s as %s, --help as %s" %
                            (where, long_name, other[long_name], (short, argument)))
    for long_name in sorted(set(other) - set(truth)):
        problems.append("%s describes %s, which --help does not list" % (where, long_name))


def compare_exit_codes(truth, documented, where, problems):
    for code, sysexits in sorted(truth.items()):
        if code not in documented:
            problems.append("%s does not describe exit code %d" % (where, code))
        elif sysexits and sysexits not in documented[code]:
            problems.append("%s does not name exit code %d %s" % (where, code, sysexits))
    for code in sorted(set(documented) - set(truth)):
        problems.append("%s describes exit code %d, which cli/exit_codes.h does not define" %
                        (where, code))


def completion_options(completion):
    """(options offered, options after which a value is typed) of the completion."""
    offered = set(re.search(r'local options="([^"]*)"', completion).group(1).split())
    block = re.search(r"\n    (-[^)]*)\)\n      return 0 # a value to type", completion).group(1)
    return offered, set(re.findall(r"-[-\w]+", block))


def check_completion(listed, completion, problems):
    offered, valued = completion_options(completion)
    wanted = set(listed) | {short_form for short_form, _ in listed.values() if short_form}
    wanted = {"-" + o if len(o) == 1 else o for o in wanted} | {"--wait="}
    for option in sorted(wanted - offered):
        problems.append("the bash completion does not offer %s" % option)
    for option in sorted(offered - wanted):
        problems.append("the bash completion offers %s, which --help does not list" % option)
    takes_value = set()
    for long_name, (short, argument) in listed.items():
        if argument.startswith(" ") or argument[:1].isupper():
            takes_value |= {long_name} | ({"-" + short} if short else set())
    takes_value.discard("--dir")  # completed with directories
    for option in sorted(takes_value - valued):
        problems.append("the bash completion offers options after %s instead of letting "
                        "its value be typed" % option)


def check(help_text, args_cc, header, man, readme, completion):
    """Returns the disagreements, as messages."""
    problems = []
    accepted = set(ACCEPTED_LONG.findall(args_cc))
    accepted_short = set(ACCEPTED_SHORT.findall(args_cc))
    listed = help_options(help_text, problems)
    for long_name in sorted(set(listed) - accepted):
        problems.append("--help lists %s, which cli/args.cc does not accept" % long_name)
    for long_name in sorted(accepted - set(listed)):
        # An extra spelling (flock's --nb) must at least be in the man page.
        if troff_escape(long_name) not in man:
            problems.append("cli/args.cc accepts %s, which neither --help nor the man page "
                            "names" % long_name)
    shorts = {short for short, _ in listed.values() if short}
    if shorts != accepted_short:
        problems.append("--help lists the short options %s, cli/args.cc accepts %s" %
                        (sorted(shorts), sorted(accepted_short)))
    compare_options(listed, man_options(man, problems), "the man page", problems)
    compare_options(listed, readme_options(readme, problems), "README.md", problems)
    check_completion(listed, completion, problems)

    codes = header_exit_codes(header)
    exit_paragraph = help_text.split("\nExit status:", 1)[1].split("\n\n", 1)[0]
    # Numbers, not man page sections ("onlyone(1)"), nor the 128 of "128+N".
    numbers = re.findall(r"\b(\d+)\b", re.sub(r"\w+\(\d\)", "", exit_paragraph))
    in_help = {int(n) for n in numbers} - {128}
    compare_exit_codes({code: None for code in codes}, {code: "" for code in in_help},
                       "--help", problems)
    compare_exit_codes(codes, man_exit_codes(man), "the man page", problems)
    compare_exit_codes(codes, readme_exit_codes(readme), "README.md", problems)
    for where, text in (("--help", exit_paragraph), ("the man page", man_section(
            man, "EXIT STATUS")), ("README.md", readme_section(readme, "Exit status"))):
        if "128+N" not in text:
            problems.append("%s does not describe 128+N (kExitSignalBase)" % where)
    return problems


def troff_escape(option):
    return option.replace("-", "\\-")


class CliDocsTest(unittest.TestCase):
    files = None

    def test_help_man_page_and_readme_agree_with_the_code(self):
        problems = check(*self.files)
        self.assertEqual(problems, [], "\n".join(problems))


class CheckerTest(unittest.TestCase):
    """The checker itself, on edited copies of the real files."""

    def problems_after(self, index, old, new):
        files = list(CliDocsTest.files)
        self.assertIn(old, files[index])
        files[index] = files[index].replace(old, new, 1)
        return check(*files)

    def test_reports_an_option_missing_from_the_man_page(self):
        problems = self.problems_after(3, ".BI \\-\\-slots \" N\"", ".BI \\-\\-slot \" N\"")
        self.assertIn("the man page does not describe --slots", problems)

    def test_reports_another_argument_in_the_readme(self):
        problems = self.problems_after(4, "| `--grace DURATION` |", "| `--grace SECONDS` |")
        self.assertIn("README.md writes --grace as (None, 'SECONDS'), --help as "
                      "(None, 'DURATION')", problems)

    def test_reports_an_option_the_code_does_not_accept(self):
        problems = self.problems_after(1, 'option == "--replace"', 'option == "--take-over"')
        self.assertIn("--help lists --replace, which cli/args.cc does not accept", problems)

    def test_reports_an_exit_code_the_header_changed(self):
        problems = self.problems_after(2, "kExitNoPerm = 77;", "kExitNoPerm = 76;")
        self.assertIn("the man page does not describe exit code 76", problems)
        self.assertIn("README.md describes exit code 77, which cli/exit_codes.h does not "
                      "define", problems)
        self.assertIn("--help does not describe exit code 76", problems)

    def test_reports_an_option_the_completion_does_not_offer(self):
        problems = self.problems_after(5, "-n --nonblock -w --timeout", "-n --nonblock")
        self.assertIn("the bash completion does not offer --timeout", problems)

    def test_reports_a_wrong_sysexits_name(self):
        problems = self.problems_after(3, "EX_IOERR: another", "EX_OSERR: another")
        self.assertIn("the man page does not name exit code 74 EX_IOERR", problems)


def main():
    onlyone, args_cc, header, man, readme, completion = sys.argv[1:7]
    del sys.argv[1:7]
    help_text = subprocess.run([onlyone, "--help"], check=True, capture_output=True,
                               text=True).stdout

    def read(path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    CliDocsTest.files = (help_text, read(args_cc), read(header), read(man), read(readme),
                         read(completion))
    unittest.main()


if __name__ == "__main__":
    main()
