#!/usr/bin/env bash
# Many waiters on one lock (docs/wasi.md): 32 Node-hosted wasm waiters, 16
# wasm + 16 native `onlyone --wait` waiters, and 32 native waiters, in turns
# in one run, on a tmpfs and on ext4 (a loop-mounted image). A benchmark, not
# a test: bench/wasi_waiters.js explains the sample.
#
#   bench/wasi_waiters.sh [--rounds N] [--hold-ms MS] [--out FILE]
#
# Needs root for the ext4 mount (else ext4 is skipped, and says so). Builds
# //cli:onlyone and //platform/wasi:onlyone.wasm with -c opt (BAZEL,
# BENCH_OUTPUT_BASE as in bench/run.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BAZEL="${BAZEL:-bazel}"
ROUNDS=5
HOLD_MS=10
OUT=""
while (($# > 0)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --hold-ms) HOLD_MS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "wasi_waiters: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
log() { printf 'wasi_waiters: %s\n' "$*" >&2; }

BAZEL_STARTUP=()
if [[ -n "${BENCH_OUTPUT_BASE:-}" ]]; then BAZEL_STARTUP=(--output_base="$BENCH_OUTPUT_BASE"); fi
log "building (bazel -c opt)"
"$BAZEL" "${BAZEL_STARTUP[@]}" build -c opt //cli:onlyone //platform/wasi:onlyone.wasm >&2
BIN="$("$BAZEL" "${BAZEL_STARTUP[@]}" info -c opt bazel-bin 2>/dev/null)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/onlyone-waiters.XXXXXX")"
MNT=""
cleanup() {
  if [[ -n "$MNT" ]] && mountpoint -q "$MNT"; then umount "$MNT"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# Copies, so that another build cannot replace them during the run.
cp "$BIN/cli/onlyone" "$BIN/platform/wasi/onlyone.wasm" "$WORK/"

FS=()
TMPFS=""
for candidate in /dev/shm /run /tmp; do
  if [[ -d "$candidate" && -w "$candidate" && "$(stat -f -c %T "$candidate")" == tmpfs ]]; then
    TMPFS="$candidate"
    break
  fi
done
if [[ -n "$TMPFS" ]]; then FS+=(--fs "tmpfs=$TMPFS"); else log "no writable tmpfs: tmpfs skipped"; fi
if [[ "$(id -u)" -eq 0 ]] && command -v mkfs.ext4 >/dev/null; then
  # The image lives on disk (not in $WORK, which may itself be a tmpfs).
  IMAGE="$(mktemp /var/tmp/onlyone-waiters.XXXXXX.ext4)"
  MNT="$WORK/ext4"
  mkdir -p "$MNT"
  truncate -s 64M "$IMAGE"
  mkfs.ext4 -q -F "$IMAGE"
  mount -o loop "$IMAGE" "$MNT"
  rm -f "$IMAGE"  # the mount keeps it until the umount
  FS+=(--fs "ext4=$MNT")
else
  log "ext4 needs root and mkfs.ext4 (e2fsprogs): skipped"
fi

{
  echo "date:   $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git status --porcelain -- . ':!bench' ':!*.md' 2>/dev/null | grep -q . && echo ' + uncommitted changes')"
  echo "node:   $(node --version); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "run:    $ROUNDS rounds, 32 waiters, hold ${HOLD_MS} ms"
} | tee ${OUT:+"$OUT"} >&2
node bench/wasi_waiters.js --onlyone "$WORK/onlyone" --wasm "$WORK/onlyone.wasm" "${FS[@]}" \
  --rounds "$ROUNDS" --hold-ms "$HOLD_MS" | tee ${OUT:+-a "$OUT"}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee ${OUT:+-a "$OUT"} >&2
