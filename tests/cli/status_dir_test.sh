#!/usr/bin/env bash
# onlyone status (text and JSON) and the lock directory: ONLYONE_DIR, --dir,
# unsafe directories.
source "$(dirname "$0")/lib.sh" "$1"

begin "status --json is valid JSON listing the holder"
start_onlyone st -- sh -c "touch '$WORK/st.started'; exec sleep 30"
ST_PID=$BG_PID
wait_until 10 file_exists "$WORK/st.started" || fail "holder did not start"
run_onlyone status --json
expect_eq "exit code" 0 "$RC"
summary="$(printf '%s' "$OUT" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
lock = [l for l in doc["locks"] if l["name"] == "st"][0]
e = lock["entries"][0]
print(e["state"], e["pid"], e["alive"], e["command"].startswith("sh -c"))')"
expect_eq "holder entry" "holding $ST_PID True True" "$summary"
run_onlyone status --json st
printf '%s' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "status --json st is not JSON"

begin "status text lists the holder"
run_onlyone status st
expect_eq "exit code" 0 "$RC"
expect_contains "row" "holding" "$OUT"
expect_contains "row" "$ST_PID" "$OUT"
kill -TERM "$ST_PID"
wait_background "$ST_PID" 10

begin "--dir overrides ONLYONE_DIR"
mkdir -m 700 "$WORK/other"
run_onlyone --dir "$WORK/other" d -- true
expect_eq "exit code" 0 "$RC"
[[ -d "$WORK/other/d" ]] || fail "--dir was not used"
[[ ! -e "$LOCKS/d" ]] || fail "ONLYONE_DIR was used despite --dir"

begin "a world-writable lock directory is refused with 73"
mkdir "$WORK/open"
chmod 777 "$WORK/open"
run_onlyone --dir "$WORK/open" x -- true
expect_eq "exit code" 73 "$RC"
expect_contains "message" "onlyone: cannot lock 'x' in $WORK/open: " "$ERR"
# What to do comes from the library's message (today: chmod go-w, or --dir).
[[ "${ERR#*in $WORK/open: }" =~ [a-z] ]] || fail "no explanation after the directory: $ERR"
expect_eq "stderr lines" 1 "$(printf '%s\n' "$ERR" | wc -l)"

begin "--dir in a sticky directory like /tmp works without --shared-dir; each lock in it is private"
mkdir -m 1777 "$WORK/sticky"
chmod 1777 "$WORK/sticky"  # past the umask
run_onlyone --dir "$WORK/sticky" p -- true
expect_eq "exit code" 0 "$RC"
expect_eq "mode of the lock directory" "700" "$(stat -c %a "$WORK/sticky/p")"

begin "a lock directory another user made first in a sticky directory is refused with 73"
((EUID == 0)) || fail "this case needs root to make a directory owned by nobody"
mkdir -m 755 "$WORK/sticky/taken"
chown 65534 "$WORK/sticky/taken" || fail "cannot chown to nobody (run outside the sandbox as root)"
run_onlyone --dir "$WORK/sticky" taken -- true
expect_eq "exit code" 73 "$RC"
expect_contains "message" "is owned by uid 65534, not by you or root" "$ERR"

begin "a group-writable directory without the sticky bit is refused with 73"
mkdir "$WORK/group"
chmod 770 "$WORK/group"
run_onlyone --dir "$WORK/group" x -- true
expect_eq "exit code" 73 "$RC"
expect_contains "message" "without the sticky bit" "$ERR"

begin "a symlinked lock directory is refused with 73"
ln -s "$WORK/other" "$WORK/link"
run_onlyone --dir "$WORK/link" x -- true
expect_eq "exit code" 73 "$RC"
expect_contains "message" "cannot lock 'x'" "$ERR"

begin "--shared-dir accepts a sticky directory shared by several users"
mkdir -m 1777 "$WORK/shared"
run_onlyone --shared-dir --dir "$WORK/shared" s -- sh -c 'echo "$ONLYONE_NAME"'
expect_eq "exit code" 0 "$RC"
expect_eq "output" "s" "$OUT"

begin "a bad lock name is a usage error"
run_onlyone .. -- true
expect_eq "exit code" 64 "$RC"

finish
