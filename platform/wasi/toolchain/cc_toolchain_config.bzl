"""A C++ toolchain for wasm32-wasi: Debian's clang-14, wasm-ld-14 and wasi-libc.

Selected by `--config=wasi` (see .bazelrc) or by the `wasm_module` rule's
transition (//platform/wasi:wasm.bzl), never by the default native build.

Hermeticity traps this toolchain defends against:
- Debian's clang-14 searches /usr/include and /usr/local/include even for
  wasm32-wasi, so a native glibc header could slip into a module and compile
  against the wrong ABI. Compiles use -nostdinc and name exactly two include
  directories: clang's resource headers and wasi-libc's.
- No C++ standard library: the core and the WASI driver need none
  (-nostdinc++, -nostdlib++), and leaving it out keeps the allocator and
  exception runtime out of the module (checked by //platform/wasi:symbols_test).
- The module is a WASI "reactor" (crt1-reactor.o): it exports functions and
  `_initialize` and has no main; wasm-ld links wasi-libc's libc.a only for the
  few memory intrinsics the compiler emits (memcpy, memset).
"""

load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
)
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")

CLANG = "/usr/bin/clang-14"
CLANG_RESOURCE_INCLUDE = "/usr/lib/llvm-14/lib/clang/14.0.6/include"
WASI_LIBC_INCLUDE = "/usr/include/wasm32-wasi"
WASI_LIBC_LIB = "/usr/lib/wasm32-wasi"
COMPILER_RT_BUILTINS = "/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a"

_COMPILE_ACTIONS = [
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
]

_CPP_ACTIONS = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _impl(ctx):
    tool_paths = [
        tool_path(name = "gcc", path = CLANG),
        tool_path(name = "cpp", path = CLANG),
        tool_path(name = "ld", path = "/usr/bin/wasm-ld-14"),
        tool_path(name = "ar", path = "/usr/bin/llvm-ar-14"),
        tool_path(name = "nm", path = "/usr/bin/llvm-nm-14"),
        tool_path(name = "objcopy", path = "/usr/bin/llvm-objcopy-14"),
        tool_path(name = "objdump", path = "/usr/bin/llvm-objdump-14"),
        tool_path(name = "strip", path = "/usr/bin/llvm-strip-14"),
        tool_path(name = "gcov", path = "/bin/false"),
    ]

    compile_flags = feature(
        name = "wasm_compile_flags",
        enabled = True,
        flag_sets = [
            flag_set(
                actions = _COMPILE_ACTIONS,
                flag_groups = [flag_group(flags = [
                    "--target=wasm32-wasi",
                    "-nostdinc",
                    "-isystem",
                    CLANG_RESOURCE_INCLUDE,
                    "-isystem",
                    WASI_LIBC_INCLUDE,
                    "-Os",
                    "-ffunction-sections",
                    "-fdata-sections",
                    "-fno-exceptions",
                    "-Wall",
                    "-Wextra",
                    # Reproducible objects: no build paths in them.
                    "-no-canonical-prefixes",
                    "-fdebug-prefix-map=/proc/self/cwd=.",
                ])],
            ),
            flag_set(
                actions = _CPP_ACTIONS,
                flag_groups = [flag_group(flags = [
                    "-std=c++17",
                    "-nostdinc++",
                    "-fno-rtti",
                ])],
            ),
        ],
    )

    link_flags = feature(
        name = "wasm_link_flags",
        enabled = True,
        flag_sets = [flag_set(
            actions = _LINK_ACTIONS,
            flag_groups = [flag_group(flags = [
                "--target=wasm32-wasi",
                "-nostdlib",
                WASI_LIBC_LIB + "/crt1-reactor.o",
                "-L" + WASI_LIBC_LIB,
                "-Wl,--no-entry",
                "-Wl,--gc-sections",
                # Memory and stack are fixed: the module has no allocator, so
                # nothing may grow the memory after instantiation.
                "-Wl,-z,stack-size=65536",
                "-Wl,--initial-memory=262144",
                "-Wl,--max-memory=262144",
            ])],
        )],
    )

    # Appended after the objects, so that wasm-ld resolves the intrinsics the
    # objects need from these archives.
    link_libraries = feature(
        name = "wasm_link_libraries",
        enabled = True,
        flag_sets = [flag_set(
            actions = _LINK_ACTIONS,
            flag_groups = [flag_group(flags = [
                "-lc",
                COMPILER_RT_BUILTINS,
            ])],
        )],
    )

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "wasm32-wasi-clang-14",
        host_system_name = "local",
        target_system_name = "wasm32-wasi",
        target_cpu = "wasm32",
        target_libc = "wasi-libc",
        compiler = "clang",
        abi_version = "wasm32",
        abi_libc_version = "wasi-libc",
        tool_paths = tool_paths,
        features = [compile_flags, link_flags, link_libraries],
        cxx_builtin_include_directories = [
            CLANG_RESOURCE_INCLUDE,
            WASI_LIBC_INCLUDE,
        ],
    )

wasm_cc_toolchain_config = rule(
    implementation = _impl,
    attrs = {},
    provides = [CcToolchainConfigInfo],
)
