"""node_test: JavaScript tests run by Node's built-in test runner (node --test)."""

def node_test(name, srcs, data = [], env_paths = {}, size = "small", tags = [], **kwargs):
    """A test of `srcs` (*.test.js files) under `node --test`.

    Args:
      name: target name.
      srcs: the test files.
      data: runfiles the tests need (the module, helpers).
      env_paths: {VARIABLE: label}: exported to the tests as the label's
        absolute path (the label is added to `data`).
      size: the test's size; every test has one.
      tags: test tags.
      **kwargs: passed to sh_test.
    """
    args = ["%s=$(rootpath %s)" % (variable, label) for variable, label in env_paths.items()]
    args.append("--")
    args.extend(["$(rootpath %s)" % src for src in srcs])
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//platform/wasi/node:node_test_runner.sh"],
        args = args,
        data = srcs + data + [label for label in env_paths.values() if label not in data],
        tags = tags,
        **kwargs
    )
