"""string_flag: a command-line build setting, like Skylib's (not offline here).

    string_flag(name = "link", build_setting_default = "static")
    bazel build --//cli:link=dynamic ...

Unlike --define, a build setting can be set by a Starlark transition: the
release build (//packaging:release.bzl) resets it.
"""

def _string_flag_impl(ctx):
    allowed = ctx.attr.values
    value = ctx.build_setting_value
    if allowed and value not in allowed:
        fail("%s: '%s' is not one of %s" % (ctx.label, value, allowed))
    return []

string_flag = rule(
    implementation = _string_flag_impl,
    build_setting = config.string(flag = True),
    attrs = {"values": attr.string_list()},
)
