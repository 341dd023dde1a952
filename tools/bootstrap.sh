#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs to build and test, then
# the npm packages the tests need (tools/npm: TypeScript), with `npm ci` from
# tools/npm/package-lock.json into tools/npm/node_modules.
#
# Idempotent: checks with dpkg first, so when everything is there it is fast
# and never calls apt. As root it installs what is missing with apt-get; as
# another user it prints the exact install command and exits non-zero.
#
# Usage: tools/bootstrap.sh [--check]   (--check: report only, never install)
set -euo pipefail

PACKAGES=(
  bazel-bootstrap       # Bazel 4.2.3 (/usr/bin/bazel), builds offline
  default-jdk-headless  # JVM for the Bazel server and @local_jdk
  g++                   # default C++ toolchain (Bazel's local_config_cc)
  libgtest-dev          # GoogleTest/GoogleMock sources in /usr/src/googletest
  librapidcheck-dev     # rapidcheck headers + static library
  python3               # tools/test_totals.py
  clang-14              # clang toolchain (sanitizers, fuzzing, wasm)
  lld-14                # LLVM linker for clang-14
  llvm-14               # llvm-nm: //core:freestanding_build_test checks linked symbols
  # --- WebAssembly: wasm32-wasi toolchain and the Node.js host ---
  wasi-libc             # libc for wasm32-wasi
  libclang-rt-14-dev-wasm32  # compiler-rt builtins for wasm32
  libc++-14-dev-wasm32  # C++ headers for wasm32-wasi (the core needs no libc++ itself)
  libc++abi-14-dev-wasm32
  nodejs                # node:wasi runs the modules; node --test runs their tests
  # --- ZooKeeper: a real server started by the tests, the C client ---
  zookeeper             # the server (Java), started on loopback by the tests
  libzookeeper-mt-dev   # the multi-threaded C client
  python3-kazoo         # kazoo's Lock: interop tests (and the benchmark's peer)
  # --- A FUSE mount: //tests/posix:fuse_test (no RENAME_NOREPLACE there) ---
  bindfs                # mounts a directory again through FUSE
  fuse3                 # fusermount3, the FUSE helpers bindfs runs with
  # --- Fuzzing and static checks ---
  libfuzzer-14-dev      # libFuzzer for clang-14 (--config=fuzz)
  clang-format-14       # formatting check
  clang-tidy-14         # static checks
  # --- Packages for users: ./run package, //packaging, //python ---
  lintian               # checks the .deb (//packaging/debian:deb_test)
  python3-setuptools    # builds the wheel offline (python/build_wheel.sh)
  python3-wheel         # bdist_wheel, for the wheel's platform tag (python/setup.py)
  python3-pip           # pip wheel / pip install --no-index
  python3-venv          # the fresh venv the wheel is installed into (//python:wheel_test)
)

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
  *) echo "bootstrap: unknown argument: $1" >&2; exit 2 ;;
esac

if ! command -v dpkg >/dev/null 2>&1; then
  echo "bootstrap: dpkg not found; this project expects Debian 12. Install the" \
       "equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

is_installed() {
  dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    is_installed "$p" || echo "$p"
  done
}

# npm packages from tools/npm/package-lock.json, exactly those versions,
# into tools/npm/node_modules: tests use them from there, without network.
# Reinstalled when the lock file is newer than the installation.
install_npm_tools() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/npm"
  local stamp="$dir/node_modules/.package-lock.json"
  if [[ -f "$stamp" && ! "$dir/package-lock.json" -nt "$stamp" ]]; then
    return 0
  fi
  if ((check_only)); then
    echo "bootstrap: npm packages of tools/npm are not installed; run: tools/bootstrap.sh" >&2
    exit 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: npm not found (it comes with nodejs); install it, then run tools/bootstrap.sh again" >&2
    exit 1
  fi
  echo "bootstrap: installing npm packages of tools/npm (npm ci)" >&2
  npm ci --prefix "$dir" --no-audit --no-fund
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
  install_npm_tools
  exit 0
fi

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if ((check_only)) || [[ "$(id -u)" -ne 0 ]]; then
  echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
  echo "bootstrap: install them with:" >&2
  echo "sudo apt-get update"
  echo "sudo ${install_cmd}"
  exit 1
fi

echo "bootstrap: installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -q)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

mapfile -t still_missing < <(missing_packages)
if ((${#still_missing[@]} > 0)); then
  echo "bootstrap: still missing after apt-get: ${still_missing[*]}" >&2
  exit 1
fi
echo "bootstrap: all packages installed" >&2
install_npm_tools
