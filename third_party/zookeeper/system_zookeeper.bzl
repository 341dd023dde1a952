"""Repository rule exposing Debian's libzookeeper-mt-dev as @zookeeper_c.

Debian ships the ZooKeeper C client as headers in /usr/include/zookeeper and
the multi-threaded library libzookeeper_mt (shared and static) in the
multiarch library directory; there are no sources. This rule symlinks exactly
those files into the repository (not all of /usr/include, which would put it
on the -isystem path ahead of libstdc++'s wrapper headers) and adds
BUILD.zookeeper. Same shape as //third_party/rapidcheck.
"""

def _find_library(ctx, file_name):
    # Ask the C compiler where it would find the library (handles multiarch).
    for cc in ["gcc", "cc", "clang"]:
        tool = ctx.which(cc)
        if tool == None:
            continue
        res = ctx.execute([tool, "-print-file-name=" + file_name])
        out = res.stdout.strip()
        if res.return_code == 0 and out.startswith("/") and ctx.path(out).exists:
            return ctx.path(out)
    for d in ctx.attr.lib_dirs:
        p = ctx.path(d + "/" + file_name)
        if p.exists:
            return p
    return None

def _system_zookeeper_impl(ctx):
    headers = ctx.path(ctx.attr.include_dir + "/zookeeper")
    library = _find_library(ctx, "libzookeeper_mt.so")
    if not headers.get_child("zookeeper.h").exists or library == None:
        fail("the ZooKeeper C client was not found (need %s/zookeeper.h and " % headers +
             "libzookeeper_mt.so). Install it with: apt-get install libzookeeper-mt-dev " +
             "(or run tools/bootstrap.sh)")
    ctx.symlink(headers, "include/zookeeper")
    ctx.symlink(library, "lib/libzookeeper_mt.so")
    archive = _find_library(ctx, "libzookeeper_mt.a")
    if archive == None:
        fail("libzookeeper_mt.a was not found: the onlyone command links it statically. " +
             "Install it with: apt-get install libzookeeper-mt-dev (or run tools/bootstrap.sh)")
    ctx.symlink(archive, "lib/libzookeeper_mt.a")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.template("BUILD.bazel", ctx.attr.build_file, {})

system_zookeeper = repository_rule(
    implementation = _system_zookeeper_impl,
    attrs = {
        "build_file": attr.label(
            default = Label("//third_party/zookeeper:BUILD.zookeeper"),
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
