"""release_files: targets built as a release, whatever the command line says.

What goes into a package (.deb, wheel) is the release build: optimized, and
without the instrumentation the sanitizer configs add (--config=asan_ubsan
links the command dynamically against the ASan runtime, which no user has).
A transition resets those options for `srcs`, so the package tests check
the package a user gets in every pass of ./run test, and `./run package`
builds the same files. (Bazel 4 names a transitioned configuration by the
options the transition changed, which differ between the passes: the
sanitizer pass builds its own copy of these files, with the same flags.)
"""

def _release_impl(settings, attr):
    return {
        "//command_line_option:compilation_mode": "opt",
        "//command_line_option:copt": [],
        "//command_line_option:linkopt": [],
        "//cli:link": "static",
        "//command_line_option:platform_suffix": "",
        "//command_line_option:strip": "always",
    }

_release = transition(
    implementation = _release_impl,
    inputs = [],
    outputs = [
        "//command_line_option:compilation_mode",
        "//command_line_option:copt",
        "//command_line_option:linkopt",
        "//cli:link",
        "//command_line_option:platform_suffix",
        "//command_line_option:strip",
    ],
)

def _release_files_impl(ctx):
    files = depset(transitive = [src[DefaultInfo].files for src in ctx.attr.srcs])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

release_files = rule(
    implementation = _release_files_impl,
    attrs = {
        "srcs": attr.label_list(mandatory = True, cfg = _release),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
