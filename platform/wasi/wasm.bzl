"""wasm_module: builds a cc_binary for wasm32-wasi from any configuration.

The default build is native. A wasm_module target moves its `binary` into the
wasm32-wasi configuration with a Starlark transition (the same toolchain as
--config=wasi, see //platform/wasi/toolchain), so that `bazel test //...`
builds the module and runs its Node.js tests with no extra flags, while
every native target stays native.

With `strip = True` the output is stripped with llvm-strip-14 (names and
custom sections gone: the size users ship); otherwise it is the linked
module as is, whose name section lets tests check which functions it
contains.
"""

# A Label, not a string: a transition's label-valued option is read relative to
# the main repository, so the bare "//platform/..." would name a package of
# the consumer's workspace when onlyone is an external repository.
WASM_CROSSTOOL_TOP = str(Label("//platform/wasi/toolchain:suite"))
WASM_CPU = "wasm32"

def _to_wasm_impl(settings, attr):
    return {
        "//command_line_option:crosstool_top": WASM_CROSSTOOL_TOP,
        "//command_line_option:cpu": WASM_CPU,
        # Plain optimized objects whatever -c the build uses; the toolchain's
        # own flags say -Os.
        "//command_line_option:compilation_mode": "opt",
        # The native build's extra flags are for the native compiler: the
        # sanitizer configs' -fsanitize=address, for one, does not exist for
        # wasm32. The toolchain's own flags (including -std=c++17) are all a
        # module needs.
        "//command_line_option:copt": [],
        "//command_line_option:conlyopt": [],
        "//command_line_option:cxxopt": [],
        "//command_line_option:linkopt": [],
    }

_to_wasm = transition(
    implementation = _to_wasm_impl,
    inputs = [],
    outputs = [
        "//command_line_option:crosstool_top",
        "//command_line_option:cpu",
        "//command_line_option:compilation_mode",
        "//command_line_option:copt",
        "//command_line_option:conlyopt",
        "//command_line_option:cxxopt",
        "//command_line_option:linkopt",
    ],
)

def _wasm_module_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files.to_list()
    if len(binary) != 1:
        fail("binary must produce exactly one file, got %s" % binary)
    out = ctx.actions.declare_file(ctx.label.name)
    if ctx.attr.strip:
        ctx.actions.run(
            executable = "/usr/bin/llvm-strip-14",
            arguments = ["--strip-all", "-o", out.path, binary[0].path],
            inputs = binary,
            outputs = [out],
            mnemonic = "WasmStrip",
            progress_message = "Stripping %s" % out.short_path,
        )
    else:
        ctx.actions.symlink(output = out, target_file = binary[0])
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

wasm_module = rule(
    implementation = _wasm_module_impl,
    attrs = {
        "binary": attr.label(mandatory = True, cfg = _to_wasm),
        "strip": attr.bool(default = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
