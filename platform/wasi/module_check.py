#!/usr/bin/env python3
"""Checks a linked onlyone WebAssembly module: what it imports, which
functions it contains, whether anything can grow its memory.

    module_check.py --names MODULE_WITH_NAMES [--stripped STRIPPED --max-bytes N]

Fails (exit 1, one line per problem) when
- the module imports anything but wasi_snapshot_preview1 functions and the
  two onlyone_host functions of host.h;
- it contains an allocator, the C++ runtime's new/delete, or exception
  support (by the function names of its "name" section);
- any function executes memory.grow (an allocator in disguise: the module's
  memory is fixed at link time);
- the stripped module is larger than --max-bytes.
Python 3 standard library only; the disassembly comes from llvm-objdump-14.
"""

import argparse
import re
import subprocess
import sys

ALLOWED_IMPORT_MODULES = {"wasi_snapshot_preview1"}
ALLOWED_HOST_IMPORTS = {("onlyone_host", "identity"), ("onlyone_host", "process_alive")}
# Allocators (libc, dlmalloc, sbrk), C++ new/delete (Itanium-mangled and
# demangled) and exception support.
FORBIDDEN_FUNCTION = re.compile(
    r"^(malloc|free|calloc|realloc|aligned_alloc|posix_memalign|memalign|valloc|sbrk|"
    r"dlmalloc|dlfree|__libc_malloc|__libc_free|_Znwm|_Znam|_Znwj|_Znaj|_ZdlPv.*|_ZdaPv.*|"
    r"operator new.*|operator delete.*|__cxa_.*|_Unwind_.*)$"
)
SECTION_IMPORT = 2
SECTION_CUSTOM = 0
NAME_SUBSECTION_FUNCTIONS = 1


def leb128(data, offset):
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


def sections(data):
    if data[:4] != b"\0asm":
        raise ValueError("not a WebAssembly module")
    offset = 8
    while offset < len(data):
        section_id = data[offset]
        size, body = leb128(data, offset + 1)
        yield section_id, data[body : body + size]
        offset = body + size


def name_of(data, offset):
    size, offset = leb128(data, offset)
    return data[offset : offset + size].decode("utf-8"), offset + size


def imports(data):
    found = []
    for section_id, body in sections(data):
        if section_id != SECTION_IMPORT:
            continue
        count, offset = leb128(body, 0)
        for _ in range(count):
            module, offset = name_of(body, offset)
            field, offset = name_of(body, offset)
            kind = body[offset]
            offset += 1
            if kind == 0:  # function: type index
                _, offset = leb128(body, offset)
            elif kind == 1:  # table: reftype, limits
                offset += 1
                flags, offset = leb128(body, offset)
                _, offset = leb128(body, offset)
                if flags & 1:
                    _, offset = leb128(body, offset)
            elif kind == 2:  # memory: limits
                flags, offset = leb128(body, offset)
                _, offset = leb128(body, offset)
                if flags & 1:
                    _, offset = leb128(body, offset)
            elif kind == 3:  # global: valtype, mutability
                offset += 2
            found.append((module, field, kind))
    return found


def function_names(data):
    names = []
    for section_id, body in sections(data):
        if section_id != SECTION_CUSTOM:
            continue
        section_name, offset = name_of(body, 0)
        if section_name != "name":
            continue
        while offset < len(body):
            subsection = body[offset]
            size, start = leb128(body, offset + 1)
            if subsection == NAME_SUBSECTION_FUNCTIONS:
                count, cursor = leb128(body, start)
                for _ in range(count):
                    _, cursor = leb128(body, cursor)
                    name, cursor = name_of(body, cursor)
                    names.append(name)
            offset = start + size
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", required=True, help="linked module with its name section")
    parser.add_argument("--stripped", help="the stripped module users ship")
    parser.add_argument("--max-bytes", type=int, default=0)
    parser.add_argument("--objdump", default="llvm-objdump-14")
    args = parser.parse_args()

    problems = []
    data = open(args.names, "rb").read()
    for module, field, kind in imports(data):
        if module in ALLOWED_IMPORT_MODULES and kind == 0:
            continue
        if (module, field) in ALLOWED_HOST_IMPORTS and kind == 0:
            continue
        problems.append(f"unexpected import {module}.{field} (kind {kind})")

    names = function_names(data)
    if not names:
        problems.append("no name section: cannot tell which functions the module contains")
    for name in names:
        if FORBIDDEN_FUNCTION.match(name):
            problems.append(f"the module contains {name}: an allocator or C++ runtime function")

    disassembly = subprocess.run(
        [args.objdump, "-d", args.names], check=True, capture_output=True, text=True
    ).stdout
    if "memory.grow" in disassembly:
        problems.append("the module executes memory.grow: something allocates")

    print(f"module_check: {len(names)} functions, imports: "
          + ", ".join(sorted({f"{m}.{f}" for m, f, _ in imports(data)})))
    if args.stripped:
        size = len(open(args.stripped, "rb").read())
        print(f"module_check: stripped module is {size} bytes (limit {args.max_bytes})")
        if args.max_bytes and size > args.max_bytes:
            problems.append(f"stripped module is {size} bytes, over the limit of {args.max_bytes}")

    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
