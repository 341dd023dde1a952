"""onlyone_fuzz_target: one libFuzzer target and the test that replays its corpus.

    onlyone_fuzz_target(
        name = "record",                 # fuzz/record_fuzzer.cc, fuzz/corpus/record/
        srcs = ["record_fuzzer.cc"],     # defines LLVMFuzzerTestOneInput
        deps = ["//core"],
    )

defines

  :record_replay_test  a cc_test (built by every toolchain, GCC by default) that
                       feeds every file of fuzz/corpus/record/ to
                       LLVMFuzzerTestOneInput once; part of `bazel test //...`.
  :record_fuzzer       the libFuzzer binary. Tagged manual (it needs clang's
                       -fsanitize=fuzzer): built only by `./run fuzz`, which
                       uses --config=fuzz in an output base of its own.

The corpus directory must exist and hold at least one file: the replay test
fails on an empty corpus, so a target cannot silently test nothing.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

# Warnings as in the rest of the tree; fuzz targets are code we keep.
load("//tools:copts.bzl", "COPTS")

def onlyone_fuzz_target(name, srcs, deps = [], corpus = None, size = "small"):
    corpus = corpus or "corpus/" + name
    cc_test(
        name = name + "_replay_test",
        size = size,
        srcs = srcs,
        copts = COPTS,
        args = [native.package_name() + "/" + corpus],
        data = native.glob([corpus + "/*"]),
        deps = deps + [
            "//fuzz:replay_main",
            "//fuzz:util",
        ],
    )
    cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        srcs = srcs,
        copts = COPTS,
        linkopts = ["-fsanitize=fuzzer"],
        tags = [
            "fuzzer",
            "manual",
        ],
        deps = deps + ["//fuzz:util"],
    )
