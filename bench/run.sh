#!/usr/bin/env bash
# Runs the benchmarks, each side by side with its peer in the same run, and
# prints a markdown summary (docs/performance.md explains the method).
#
#   bench/run.sh [--quick] [--out DIR] [--tmp DIR] [--ext4 DIR] [--no-install] [--skip PARTS]
#
#   --quick       few samples: checks that everything runs (figures are noise)
#   --out DIR     where samples and summary.md go (default: a new directory
#                 under ${TMPDIR:-/tmp}, printed at the end)
#   --tmp DIR     where the tmpfs locks live; must be a tmpfs (default: /dev/shm,
#                 else /run, else /tmp when they are tmpfs)
#   --ext4 DIR    where the ext4 locks live (an ext4 directory). Without it, as
#                 root, a 256 MiB ext4 image is made, loop-mounted for the run
#                 and removed at the end; not root: the ext4 half is skipped
#                 (and the summary says why). --ext4 none skips it.
#   --no-install  never call apt-get (peers whose package is missing are skipped)
#   --skip PARTS  comma-separated: cycle,exec,handoff,syscalls,zk
#
# cycle, exec and handoff run once per file system (tmpfs, then ext4), each
# with its peers in the same run: results go to OUT/tmpfs and OUT/ext4, and
# summary.md has a section per file system plus the targets of both.
#
# Environment: BAZEL (default bazel), BENCH_OUTPUT_BASE (a Bazel --output_base
# for the -c opt build, e.g. to keep it apart from the default one),
# BENCH_PYTHON (default /usr/bin/python3: Debian's, which sees python3-filelock).
#
# Parts (every figure is a ratio against a peer measured in this run):
#   cycle     onlyone::Lock TryAcquire+Release (reused and fresh Lock) vs a raw
#             open+flock+close cycle and an O_EXCL record-file cycle,
#             interleaved in one process; then Python
#             filelock (FileLock, SoftFileLock) and Qt QLockFile back to back,
#             in the same rounds; then, as context, each file operation of the
#             cycle timed on its own (fileops_bench)
#   exec      `onlyone --dir D NAME -- true` vs `flock -n FILE true`, 500 runs
#             each, interleaved run by run (own fork/exec timer; hyperfine as a
#             cross-check when installed)
#   handoff   release -> next waiter running, onlyone vs flock(2), with 1 and 64
#             waiters
#   syscalls  strace -c -f: syscalls per cycle, per command run and per
#             hand-off; perf (if installed): the cycle's CPU by binary
#   zk        ZooKeeper: a standalone server on loopback (Debian's
#             zookeeper, started and stopped here); ZkLock vs kazoo's Lock,
#             uncontended acquire+release and hand-off among 2 and 8, in
#             alternating rounds; round trips per acquire and watch
#             notifications per release (bench/zk_bench.cc, bench/peer_kazoo.py)
# Parts that need the library or the command are skipped (and say so) when
# those do not build yet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BAZEL="${BAZEL:-bazel}"
PYTHON="${BENCH_PYTHON:-/usr/bin/python3}"
QUICK=0
OUT=""
TMPFS=""
EXT4=""
INSTALL=1
SKIP=","

while (($# > 0)); do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="$2"; shift ;;
    --out=*) OUT="${1#--out=}" ;;
    --tmp) TMPFS="$2"; shift ;;
    --tmp=*) TMPFS="${1#--tmp=}" ;;
    --ext4) EXT4="$2"; shift ;;
    --ext4=*) EXT4="${1#--ext4=}" ;;
    --no-install) INSTALL=0 ;;
    --skip) SKIP=",$2,"; shift ;;
    --skip=*) SKIP=",${1#--skip=},"; ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

log() { printf 'bench: %s\n' "$*" >&2; }
want() { [[ "$SKIP" != *",$1,"* ]]; }

# --- Sizes -------------------------------------------------------------------
if ((QUICK)); then
  CYCLE_ROUNDS=2; CYCLES_C=300; CYCLES_PEER=200; WARMUP=50
  EXEC_RUNS=40
  HO_W1_ROUNDS=1; HO_W1_SAMPLES=100; HO_W64_SAMPLES=40; HO_W64_MAX_S=20
  STRACE_CYCLES=100
else
  CYCLE_ROUNDS=5; CYCLES_C=4000; CYCLES_PEER=2000; WARMUP=300
  EXEC_RUNS=500
  HO_W1_ROUNDS=2; HO_W1_SAMPLES=1500; HO_W64_SAMPLES=1000; HO_W64_MAX_S=100
  STRACE_CYCLES=1000
fi
HO_W1_HOLD_US=1000   # hold per hand-off once the other process is waiting
HO_W64_HOLD_US=4000  # ... once all 64 others are waiting (their doorways settle)

# --- Debian packages (peers and tools) ---------------------------------------
PACKAGES=(util-linux python3-filelock qtbase5-dev pkg-config g++ strace hyperfine)
is_installed() { dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'; }
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done
fi
if ((${#missing[@]} > 0)); then
  if ((INSTALL)) && [[ "$(id -u)" -eq 0 ]]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-o DPkg::Lock::Timeout=600 -q)
    apt-get "${apt_opts[@]}" update >&2
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >&2 ||
      log "apt-get failed: the peers that need ${missing[*]} will be skipped"
  else
    log "missing Debian packages: ${missing[*]}; the peers that need them are skipped."
    log "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
fi

# --- Where locks live: a tmpfs -----------------------------------------------
fs_type() { stat -f -c %T "$1" 2>/dev/null || echo unknown; }
if [[ -z "$TMPFS" ]]; then
  for candidate in /dev/shm /run /tmp; do
    if [[ -d "$candidate" && -w "$candidate" && "$(fs_type "$candidate")" == tmpfs ]]; then
      TMPFS="$candidate"
      break
    fi
  done
  if [[ -z "$TMPFS" ]]; then
    TMPFS="${TMPDIR:-/tmp}"
    log "no writable tmpfs found: using $TMPFS ($(fs_type "$TMPFS")); figures include that file system"
  fi
fi
WORK="$(mktemp -d "$TMPFS/onlyone-bench.XXXXXX")"
chmod 700 "$WORK"
EXT4_IMAGE=""
EXT4_MOUNT=""
EXT4_WORK=""
cleanup() {
  rm -rf "$WORK"
  if [[ -n "$EXT4_WORK" ]]; then rm -rf "$EXT4_WORK"; fi
  if [[ -n "$EXT4_MOUNT" ]]; then umount "$EXT4_MOUNT" 2>/dev/null && rmdir "$EXT4_MOUNT"; fi
  if [[ -n "$EXT4_IMAGE" ]]; then rm -f "$EXT4_IMAGE"; fi
}
trap cleanup EXIT

# --- Where ext4 locks live: the directory given, or a loop-mounted image ----
EXT4_SKIPPED=""
if [[ "$EXT4" == none ]]; then
  EXT4=""; EXT4_SKIPPED="--ext4 none was given"
elif [[ -n "$EXT4" ]]; then
  if [[ "$(fs_type "$EXT4")" != ext2/ext3 ]]; then
    log "--ext4 $EXT4 is $(fs_type "$EXT4"), not ext4: give an ext4 directory"; exit 64
  fi
elif [[ "$(id -u)" -ne 0 ]]; then
  EXT4_SKIPPED="not root, so no loop-mounted ext4 image could be made: give an ext4 directory with --ext4 DIR"
elif ! command -v mkfs.ext4 >/dev/null; then
  EXT4_SKIPPED="mkfs.ext4 is missing (Debian package e2fsprogs)"
else
  # The image lives on disk (not on the tmpfs): a loop device over a tmpfs file
  # would still be ext4 to the lock, but keep the figures comparable to a disk.
  EXT4_IMAGE="$(mktemp "${TMPDIR:-/tmp}/onlyone-bench-ext4.XXXXXX.img")"
  EXT4_MOUNT="$(mktemp -d "${TMPDIR:-/tmp}/onlyone-bench-ext4.XXXXXX")"
  if truncate -s 256M "$EXT4_IMAGE" && mkfs.ext4 -q -F "$EXT4_IMAGE" &&
      mount -o loop "$EXT4_IMAGE" "$EXT4_MOUNT"; then
    EXT4="$EXT4_MOUNT"
  else
    rmdir "$EXT4_MOUNT"; EXT4_MOUNT=""
    EXT4_SKIPPED="making or loop-mounting an ext4 image failed (no loop devices here?): give --ext4 DIR"
  fi
fi
if [[ -n "$EXT4" ]]; then
  EXT4_WORK="$(mktemp -d "$EXT4/onlyone-bench.XXXXXX")"
  chmod 700 "$EXT4_WORK"
else
  log "ext4: skipped: $EXT4_SKIPPED"
fi
if [[ -z "$OUT" ]]; then
  OUT="$(mktemp -d "${TMPDIR:-/tmp}/onlyone-bench-results.XXXXXX")"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT"/*.ns "$OUT"/*.waiters "$OUT"/syscalls.* "$OUT"/hyperfine.json "$OUT"/summary.md "$OUT"/tmpfs "$OUT"/ext4

# --- Build -------------------------------------------------------------------
BAZEL_STARTUP=()
if [[ -n "${BENCH_OUTPUT_BASE:-}" ]]; then BAZEL_STARTUP=(--output_base="$BENCH_OUTPUT_BASE"); fi
BUILD_FLAGS=(-c opt)
if [[ -n "${CI:-}" ]]; then BUILD_FLAGS+=(--color=no --curses=no); fi
bazel_build() { "$BAZEL" "${BAZEL_STARTUP[@]}" build "${BUILD_FLAGS[@]}" "$@" >"$OUT/build.log" 2>&1; }

HAVE_LIB=1
HAVE_CLI=1
log "building (bazel -c opt; log in $OUT/build.log)"
if ! bazel_build //bench:cycle_bench //bench:handoff_bench //bench:exec_bench //bench:fileops_bench; then
  log "the library-based benchmarks do not build yet (see $OUT/build.log): measuring the peers only"
  HAVE_LIB=0
  cp "$OUT/build.log" "$OUT/build-lib.log"
  bazel_build //bench:cycle_bench_raw //bench:handoff_bench_raw //bench:exec_bench //bench:fileops_bench ||
    { tail -30 "$OUT/build.log" >&2; exit 1; }
fi
if ! bazel_build //cli:onlyone; then
  log "//cli:onlyone does not build yet: the command benchmark measures flock(1) only"
  cp "$OUT/build.log" "$OUT/build-cli.log"
  HAVE_CLI=0
fi
BIN="$("$BAZEL" "${BAZEL_STARTUP[@]}" info "${BUILD_FLAGS[@]}" bazel-bin 2>/dev/null)"
if ((HAVE_LIB)); then
  CYCLE="$BIN/bench/cycle_bench"; HANDOFF="$BIN/bench/handoff_bench"
else
  CYCLE="$BIN/bench/cycle_bench_raw"; HANDOFF="$BIN/bench/handoff_bench_raw"
fi
EXEC="$BIN/bench/exec_bench"
FILEOPS="$BIN/bench/fileops_bench"
ONLYONE="$BIN/cli/onlyone"
# Copy the binaries out of bazel-bin, so that another build cannot replace
# them in the middle of a run.
mkdir -p "$WORK/bin"
cp "$CYCLE" "$WORK/bin/cycle_bench"; CYCLE="$WORK/bin/cycle_bench"
cp "$HANDOFF" "$WORK/bin/handoff_bench"; HANDOFF="$WORK/bin/handoff_bench"
cp "$EXEC" "$WORK/bin/exec_bench"; EXEC="$WORK/bin/exec_bench"
cp "$FILEOPS" "$WORK/bin/fileops_bench"; FILEOPS="$WORK/bin/fileops_bench"
if ((HAVE_CLI)); then cp "$ONLYONE" "$WORK/bin/onlyone"; ONLYONE="$WORK/bin/onlyone"; fi

HAVE_QT=0
if command -v g++ >/dev/null && pkg-config --exists Qt5Core 2>/dev/null; then
  # shellcheck disable=SC2046
  if g++ -std=c++17 -O2 -fPIC -I"$ROOT/bench" -o "$WORK/bin/peer_qlockfile" "$ROOT/bench/peer_qlockfile.cpp" \
      $(pkg-config --cflags --libs Qt5Core) 2>"$OUT/qt-build.log"; then
    HAVE_QT=1
  else
    log "the QLockFile peer does not compile (see $OUT/qt-build.log): skipped"
  fi
else
  log "Qt5Core (qtbase5-dev) not found: the QLockFile peer is skipped"
fi
HAVE_PY=0
if "$PYTHON" -c 'import filelock' 2>/dev/null; then HAVE_PY=1; else log "$PYTHON has no filelock: skipped"; fi

# --- Machine -----------------------------------------------------------------
load1() { cut -d' ' -f1 /proc/loadavg; }
{
  echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "machine:     $(uname -srm), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
  echo "memory:      $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "locks on:    $TMPFS ($(fs_type "$TMPFS")); ext4: ${EXT4:-skipped ($EXT4_SKIPPED)}"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
  echo "commit:      $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" status --porcelain -- . ':!bench' ':!*.md' 2>/dev/null | grep -q . && echo ' + uncommitted changes outside bench/')"
  echo "peers:       $(flock --version 2>/dev/null | head -1); python filelock $("$PYTHON" -c 'import filelock; print(filelock.__version__)' 2>/dev/null || echo -); Qt $(pkg-config --modversion Qt5Core 2>/dev/null || echo -)"
  echo "compiler:    $(g++ --version | head -1); bench built with bazel -c opt"
  echo "mode:        $( ((QUICK)) && echo 'quick (few samples: smoke check only)' || echo full)"
} >"$OUT/meta.txt"
cat "$OUT/meta.txt" >&2
if awk -v l="$(load1)" -v n="$(nproc)" 'BEGIN { exit !(l > n * 0.5) }'; then
  log "warning: load $(load1) on $(nproc) CPUs: the machine is busy, figures will be noisy"
fi
START_S=$SECONDS
# The load when each part starts (the hand-off part's own 65 processes raise
# it: the load at the end is partly the benchmark itself).
note_load() { echo "load at $1: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"; }

# Parts 1 to 3 on one file system: measure_fs NAME LOCKDIR (results in $OUT/NAME).
modes=(flock)
if ((HAVE_LIB)); then modes+=(lib); fi
measure_fs() {
  local FS="$1" FSW="$2" R="$OUT/$1" d r m
  mkdir -p "$R"
  echo "locks on:    $FSW ($(fs_type "$FSW")): this section" >"$R/fs.txt"
  # --- 1. Uncontended cycle ----------------------------------------------------
  if want cycle; then
    note_load "cycle on $FS"
    log "cycle on $FS: $CYCLE_ROUNDS rounds (C++ ${CYCLES_C} cycles per variant, peers ${CYCLES_PEER})"
    for ((r = 0; r < CYCLE_ROUNDS; r++)); do
      d="$FSW/cycle.$r"; mkdir -m 700 "$d"
      "$CYCLE" --dir "$d" --out "$R/cycle" --round "$r" --cycles "$CYCLES_C" --warmup "$WARMUP"
      if ((HAVE_PY)); then
        "$PYTHON" "$ROOT/bench/peer_filelock.py" --dir "$d" --out "$R/cycle" --round "$r" \
          --cycles "$CYCLES_PEER" --warmup "$WARMUP"
      fi
      if ((HAVE_QT)); then
        "$WORK/bin/peer_qlockfile" --dir "$d" --out "$R/cycle" --round "$r" --cycles "$CYCLES_PEER" \
          --warmup "$WARMUP"
      fi
    done
    # CPU time and context switches per cycle, one variant at a time.
    for v in raw inotify $( ((HAVE_LIB)) && echo lib_reuse lib_fresh); do
      d="$FSW/cycle.rusage.$v"; mkdir -m 700 "$d"
      "$CYCLE" --dir "$d" --variants "$v" --cycles "$CYCLES_PEER" --warmup "$WARMUP" --rusage-out "$R/cycle.rusage"
    done
    # Context for the analysis: the life of one inotify watch, next to raw flock.
    d="$FSW/cycle.ctx"; mkdir -m 700 "$d"
    "$CYCLE" --dir "$d" --out "$R/context" --variants raw,inotify --cycles "$CYCLES_PEER" --warmup "$WARMUP"
    # Context: what each of the cycle's file operations costs by itself.
    d="$FSW/cycle.fileops"; mkdir -m 700 "$d"
    "$FILEOPS" --dir "$d" --cycles "$CYCLES_PEER" --out "$R/fileops.txt" >/dev/null
  fi

  # --- 2. The command vs flock(1) ----------------------------------------------
  if want exec; then
    note_load "exec on $FS"
    d="$FSW/exec"; mkdir -m 700 "$d"
    cmds=(-- flock1 flock -n "$d/flock1.lock" true)
    if ((HAVE_CLI)); then cmds+=(::: onlyone "$ONLYONE" --dir "$d" bench-exec -- true); fi
    # Context: the floor of any command (exec of true), and what loading the
    # C++ runtime (libstdc++, libm, libgcc_s) adds to a program that does nothing.
    cmds+=(::: true "$(command -v true)")
    if printf 'int main() { return 0; }\n' >"$WORK/cxx_empty.cc" &&
        g++ -O2 -o "$WORK/bin/cxx_empty" "$WORK/cxx_empty.cc" -Wl,--no-as-needed -lstdc++ -lm 2>/dev/null; then
      cmds+=(::: cxx_empty "$WORK/bin/cxx_empty")
    fi
    log "exec on $FS: $EXEC_RUNS runs each, interleaved"
    "$EXEC" --runs "$EXEC_RUNS" --warmup 20 --out "$R/exec" "${cmds[@]}"
    if command -v hyperfine >/dev/null && ((HAVE_CLI)); then
      log "exec on $FS: hyperfine cross-check (not interleaved: all runs of one command, then the other)"
      hyperfine -N --runs "$EXEC_RUNS" --warmup 20 --export-json "$R/hyperfine.json" \
        -n flock1 "flock -n $d/flock1.lock true" \
        -n onlyone "$ONLYONE --dir $d bench-exec -- true" >"$R/hyperfine.txt" 2>&1 ||
        log "hyperfine failed (see $R/hyperfine.txt)"
    fi
  fi

  # --- 3. Hand-off latency -----------------------------------------------------
  if want handoff; then
    note_load "handoff on $FS"
    for ((r = 0; r < HO_W1_ROUNDS; r++)); do
      for m in "${modes[@]}"; do
        d="$FSW/handoff.$m.w1.$r"; mkdir -m 700 "$d"
        log "handoff on $FS: $m, 1 waiter, round $r"
        "$HANDOFF" --mode "$m" --dir "$d" --procs 2 --samples "$HO_W1_SAMPLES" --hold-us "$HO_W1_HOLD_US" \
          --max-seconds 60 --round "$r" --out "$R/handoff.$m.w1.ns" || log "handoff $m w1 failed"
      done
    done
    for m in "${modes[@]}"; do
      d="$FSW/handoff.$m.w64"; mkdir -m 700 "$d"
      log "handoff on $FS: $m, 64 waiters (at most $HO_W64_MAX_S s)"
      "$HANDOFF" --mode "$m" --dir "$d" --procs 65 --samples "$HO_W64_SAMPLES" --hold-us "$HO_W64_HOLD_US" \
        --max-seconds "$HO_W64_MAX_S" --out "$R/handoff.$m.w64.ns" || log "handoff $m w64 failed"
    done
  fi
}
measure_fs tmpfs "$WORK"
if [[ -n "$EXT4_WORK" ]]; then
  # The ext4 run builds nothing new: the same binaries, locks on ext4.
  measure_fs ext4 "$EXT4_WORK"
fi

# --- 4. System calls (on tmpfs: the counts do not depend on the file system) ----
if want syscalls && command -v strace >/dev/null; then
  note_load syscalls
  mkdir -p "$OUT/tmpfs"
  log "syscalls: strace -c -f"
  variants=(raw)
  if ((HAVE_LIB)); then variants+=(lib_reuse lib_fresh); fi
  for v in "${variants[@]}"; do
    d="$WORK/strace.$v"; mkdir -m 700 "$d"
    # Per cycle: (run of N cycles) - (run of 0 cycles), divided by N.
    strace -f -c -w -o "$OUT/tmpfs/syscalls.cycle-$v.base.txt" "$CYCLE" --dir "$d" --variants "$v" --cycles 0 --warmup 0 \
      2>/dev/null
    strace -f -c -w -o "$OUT/tmpfs/syscalls.cycle-$v.run.txt" "$CYCLE" --dir "$d" --variants "$v" \
      --cycles "$STRACE_CYCLES" --warmup 0 --batch "$STRACE_CYCLES" 2>/dev/null
    echo "$STRACE_CYCLES" >"$OUT/tmpfs/syscalls.cycle-$v.cycles"
  done
  # Per acquisition with waiters: every process of a hand-off run, divided by
  # the number of acquisitions (stats.py leaves out the harness's own calls).
  for m in "${modes[@]}"; do
    for w in 1 64; do
      d="$WORK/strace.handoff.$m.w$w"; mkdir -m 700 "$d"
      if ((w == 1)); then n=$((STRACE_CYCLES / 5)); hold=$HO_W1_HOLD_US; else n=$((STRACE_CYCLES / 50)); hold=$HO_W64_HOLD_US; fi
      strace -f -c -w -o "$OUT/tmpfs/syscalls.handoff-$m-w$w.run.txt" "$HANDOFF" --mode "$m" --dir "$d" \
        --procs $((w + 1)) --samples "$n" --warmup 0 --hold-us "$hold" --max-seconds 40 \
        --count-out "$OUT/tmpfs/syscalls.handoff-$m-w$w.cycles" 2>/dev/null || log "strace handoff $m w$w failed"
    done
  done
  # Where the CPU goes in the library's cycle: kernel, libc, the program
  # (library and core), libstdc++ (perf from linux-perf, when it works here).
  if ((HAVE_LIB)) && command -v perf >/dev/null; then
    d="$WORK/perf.lib_reuse"; mkdir -m 700 "$d"
    if perf record -q -o "$WORK/perf.data" "$CYCLE" --dir "$d" --variants lib_reuse --cycles "$((STRACE_CYCLES * 5))" \
        --warmup 100 >/dev/null 2>&1; then
      perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' >"$OUT/tmpfs/perf.lib_reuse.dso.txt" || true
    fi
  fi
  d="$WORK/strace.exec"; mkdir -m 700 "$d"
  flock -n "$d/warm.lock" true
  strace -f -c -w -o "$OUT/tmpfs/syscalls.cmd-flock1.run.txt" flock -n "$d/flock1.lock" true
  if ((HAVE_CLI)); then
    "$ONLYONE" --dir "$d" warm -- true
    strace -f -c -w -o "$OUT/tmpfs/syscalls.cmd-onlyone.run.txt" "$ONLYONE" --dir "$d" bench-exec -- true
  fi
fi

# --- 5. ZooKeeper: ZkLock vs kazoo's Lock ---------------------------------------
if want zk; then
  if ! [[ -r /usr/share/java/zookeeper.jar ]] || ! /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
    log "zk: needs the zookeeper and python3-kazoo packages (tools/bootstrap.sh): skipped"
  elif ! bazel_build //bench:zk_bench; then
    log "zk: //bench:zk_bench does not build (see $OUT/build.log): skipped"
  else
    note_load zk
    cp "$BIN/bench/zk_bench" "$WORK/bin/zk_bench"
    if ((QUICK)); then ZK_ROUNDS=1; ZK_CYCLES=50; ZK_HANDOFFS=20; else ZK_ROUNDS=3; ZK_CYCLES=500; ZK_HANDOFFS=150; fi
    coproc ZKSERVER { /usr/bin/python3 "$ROOT/tests/zookeeper/zk_fixture.py" serve; }
    read -r -t 120 ZK_CONNECT <&"${ZKSERVER[0]}" || { log "zk: the server did not start: skipped"; ZK_CONNECT=""; }
    if [[ -n "$ZK_CONNECT" ]]; then
      log "zk: server at $ZK_CONNECT; $ZK_ROUNDS rounds of $ZK_CYCLES cycles and $ZK_HANDOFFS hand-offs each"
      for ((r = 0; r < ZK_ROUNDS; r++)); do
        "$WORK/bin/zk_bench" --zk "$ZK_CONNECT" --mode cycle --samples "$ZK_CYCLES" | tee -a "$OUT/zk.txt"
        /usr/bin/python3 "$ROOT/bench/peer_kazoo.py" --zk "$ZK_CONNECT" --mode cycle --samples "$ZK_CYCLES" | tee -a "$OUT/zk.txt"
        for c in 2 8; do
          "$WORK/bin/zk_bench" --zk "$ZK_CONNECT" --mode handoff --contenders "$c" --samples "$ZK_HANDOFFS" | tee -a "$OUT/zk.txt"
          /usr/bin/python3 "$ROOT/bench/peer_kazoo.py" --zk "$ZK_CONNECT" --mode handoff --contenders "$c" \
            --samples "$ZK_HANDOFFS" | tee -a "$OUT/zk.txt"
        done
      done
    fi
    exec {ZKSERVER[1]}>&-   # stdin closed: the fixture stops the server
    wait "$ZKSERVER_PID" 2>/dev/null || true
  fi
fi

{
  echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
  echo "run time:    $((SECONDS - START_S)) s (measurements, after the build)"
} >>"$OUT/meta.txt"
for fs in tmpfs ext4; do
  if [[ -d "$OUT/$fs" ]]; then cat "$OUT/meta.txt" "$OUT/$fs/fs.txt" >"$OUT/$fs/meta.txt"; fi
done
if [[ -z "$EXT4_WORK" ]]; then echo "ext4:        skipped: $EXT4_SKIPPED" >>"$OUT/meta.txt"; fi
"$PYTHON" "$ROOT/bench/stats.py" "$OUT"
"$PYTHON" "$ROOT/bench/zk_summary.py" "$OUT"
log "samples and summary.md in $OUT"
