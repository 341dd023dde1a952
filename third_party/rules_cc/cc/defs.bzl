"""Offline stand-in for @rules_cc//cc:defs.bzl on Bazel 4.2.3.

Thin wrappers around Bazel's native C/C++ rules, with the same names that
rules_cc exports, so that BUILD files can write

    load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

exactly as with current Bazel. @bazel_tools itself loads some of these
(cc_toolchain, cc_toolchain_suite, objc_library, cc_proto_library, ...),
so they are all provided.
"""

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def fdo_prefetch_hints(**attrs):
    native.fdo_prefetch_hints(**attrs)

def fdo_profile(**attrs):
    native.fdo_profile(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)

def objc_import(**attrs):
    native.objc_import(**attrs)
