"""Repository rule exposing Debian's librapidcheck-dev as @rapidcheck.

Debian ships rapidcheck as headers in /usr/include (rapidcheck.h and
rapidcheck/, including the GoogleTest integration rapidcheck/gtest.h) plus a
static, position-independent /usr/lib/<multiarch>/librapidcheck.a; there are
no sources. This rule symlinks exactly those files into the repository (it
does not expose all of /usr/include, which would put it on the -isystem path
ahead of libstdc++'s wrapper headers) and adds BUILD.rapidcheck.
"""

def _find_static_lib(ctx):
    # Ask the C compiler where it would find the library (handles multiarch).
    for cc in ["gcc", "cc", "clang"]:
        tool = ctx.which(cc)
        if tool == None:
            continue
        res = ctx.execute([tool, "-print-file-name=librapidcheck.a"])
        out = res.stdout.strip()
        if res.return_code == 0 and out.startswith("/") and ctx.path(out).exists:
            return ctx.path(out)
    for d in ctx.attr.lib_dirs:
        p = ctx.path(d + "/librapidcheck.a")
        if p.exists:
            return p
    return None

def _system_rapidcheck_impl(ctx):
    inc = ctx.attr.include_dir
    header = ctx.path(inc + "/rapidcheck.h")
    lib = _find_static_lib(ctx)
    if not header.exists or lib == None:
        fail("rapidcheck not found (need %s/rapidcheck.h and librapidcheck.a). " % inc +
             "Install it with: apt-get install librapidcheck-dev " +
             "(or run tools/bootstrap.sh)")
    ctx.symlink(header, "include/rapidcheck.h")
    ctx.symlink(ctx.path(inc + "/rapidcheck"), "include/rapidcheck")
    ctx.symlink(lib, "lib/librapidcheck.a")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.template("BUILD.bazel", ctx.attr.build_file, {})

system_rapidcheck = repository_rule(
    implementation = _system_rapidcheck_impl,
    attrs = {
        "build_file": attr.label(
            default = Label("//third_party/rapidcheck:BUILD.rapidcheck"),
            allow_single_file = True,
        ),
        "include_dir": attr.string(default = "/usr/include"),
        "lib_dirs": attr.string_list(default = [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/usr/local/lib",
        ]),
    },
    local = True,
    environ = ["PATH"],
)
