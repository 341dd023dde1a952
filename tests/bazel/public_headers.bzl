"""direct_headers: the headers a set of C++ targets declare themselves.

Writes one repository-relative path per line: the headers in the `hdrs` of
each target of `deps` (not of their dependencies). //tests/bazel:
public_headers_test checks that the public targets' own headers are all in
the declared public header list.
"""

def _direct_headers_impl(ctx):
    paths = []
    for dep in ctx.attr.deps:
        for header in dep[CcInfo].compilation_context.direct_public_headers:
            paths.append(header.short_path)
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(out, "".join([p + "\n" for p in sorted(paths)]))
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

direct_headers = rule(
    implementation = _direct_headers_impl,
    attrs = {"deps": attr.label_list(providers = [CcInfo])},
)
