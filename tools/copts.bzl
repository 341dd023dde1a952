"""The C++ compiler flags of every target in this repository, in one place.

    load("//tools:copts.bzl", "COPTS", "OPTIMIZED")
    cc_library(name = "x", srcs = ["x.cc"], copts = COPTS)
    cc_test(name = "x_test", srcs = ["x_test.cc"], copts = COPTS + OPTIMIZED)

Every cc_* target we write, tests, fuzz targets and benchmarks included,
takes COPTS: a warning in test code hides bugs as well as one in the library
(a shadowed variable in a test checks the wrong value and still passes).
What a target needs beyond that is one of the named additions below, each
with the reason it exists; a BUILD file adds no flag of its own.

The sanitizer and fuzzing configurations add their flags on the command line
(.bazelrc), on top of these.
"""

# Warnings we keep at zero, as errors. -Wshadow: a local that hides a member
# or an outer variable is the classic way a test ends up checking itself.
COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wshadow",
]

# Optimized even in the default (fastbuild) build: the simulator, the model
# checker and the tests that drive them run millions of core steps, which
# take minutes instead of seconds at -O0; the POSIX driver and lock are what
# the real-process tests and the benchmarks' library builds run.
OPTIMIZED = ["-O2"]

# The core and the wasm module run where there is no C++ runtime (a
# freestanding or wasm32-wasi build, //core:freestanding_build_test): no
# exceptions, no RTTI, and implicit narrowing is an error, since integer
# widths differ between wasm32, 32-bit cores and the native build.
FREESTANDING = [
    "-fno-exceptions",
    "-fno-rtti",
    "-Wconversion",
]
