#!/usr/bin/env bash
# The Debian package as an admin gets it:
#   - build_deb.sh builds onlyone_<VERSION>_amd64.deb from the release build;
#   - lintian reports no errors (and no warnings);
#   - its control fields and file list are the expected ones;
#   - unpacked with dpkg-deb -x, the installed command runs a job under a
#     lock and refuses a second run with 75, and its --version is VERSION;
#   - the bash completion, sourced in an interactive bash, is registered for
#     onlyone (complete -p) and completes options and the lock names of the
#     directory given with --dir.
set -euo pipefail

binary="$1"
man_page="$2"
version_file="$3"
version="$(tr -d '[:space:]' <"$version_file")"
here="$(dirname "$0")"
work="$TEST_TMPDIR"

fail() { echo "deb_test: $*" >&2; exit 1; }

deb="$("$here/build_deb.sh" "$binary" "$man_page" "$version_file" "$work/dist")"
[[ "$(basename "$deb")" == "onlyone_${version}_amd64.deb" ]] || fail "package named $deb"

# lintian: errors and warnings both fail the test; its output is shown.
lintian --fail-on error,warning --tag-display-limit 0 "$deb" ||
  fail "lintian reports errors or warnings (above)"
# Overridden tags (O:): the one override must stay the one.
lintian_out="$(lintian --tag-display-limit 0 --show-overrides "$deb" 2>&1)" || true
echo "lintian --show-overrides: $lintian_out"
overridden="$(grep -E '^O: ' <<<"$lintian_out" | sort -u)"
[[ "$overridden" == "O: onlyone: statically-linked-binary [usr/bin/onlyone]" ]] ||
  fail "overridden tags changed: $overridden"

[[ "$(dpkg-deb -f "$deb" Package)" == onlyone ]] || fail "Package field"
[[ "$(dpkg-deb -f "$deb" Version)" == "$version" ]] || fail "Version field is not $version"
[[ "$(dpkg-deb -f "$deb" Architecture)" == amd64 ]] || fail "Architecture field"
[[ "$(dpkg-deb -f "$deb" Built-Using)" =~ ^glibc\ \(=\ .+\),\ gcc-12\ \(=\ .+\),\ zookeeper\ \(=\ .+\)$ ]] ||
  fail "Built-Using field: $(dpkg-deb -f "$deb" Built-Using)"

contents="$(dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }')"
for want in \
  "-rwxr-xr-x root/root ./usr/bin/onlyone" \
  "-rw-r--r-- root/root ./usr/share/man/man1/onlyone.1.gz" \
  "-rw-r--r-- root/root ./usr/share/bash-completion/completions/onlyone" \
  "-rw-r--r-- root/root ./usr/share/doc/onlyone/copyright" \
  "-rw-r--r-- root/root ./usr/share/doc/onlyone/changelog.gz" \
  "-rw-r--r-- root/root ./usr/share/lintian/overrides/onlyone"; do
  grep -qxF -- "$want" <<<"$contents" || fail "missing: $want; contents:"$'\n'"$contents"
done
files="$(grep -c '^-' <<<"$contents")"
((files == 6)) || fail "$files files in the package, want 6:"$'\n'"$contents"

root="$work/root"
dpkg-deb -x "$deb" "$root"
onlyone="$root/usr/bin/onlyone"
zcat "$root/usr/share/man/man1/onlyone.1.gz" | cmp -s - "$man_page" || fail "man page differs"
grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
  "$root/usr/share/doc/onlyone/copyright" || fail "copyright is not DEP-5"

[[ "$("$onlyone" --version)" == "onlyone $version" ]] ||
  fail "onlyone --version says '$("$onlyone" --version)', VERSION says $version"
locks="$work/locks"
# shellcheck disable=SC2016 # expanded by the job's shell, not here
fence="$("$onlyone" --dir "$locks" nightly -- sh -c 'echo "$ONLYONE_FENCE"')"
[[ "$fence" == 1 ]] || fail "first fence '$fence', want 1"
rc=0
"$onlyone" --dir "$locks" nightly -- "$onlyone" --dir "$locks" nightly -- true \
  2>"$work/busy.err" || rc=$?
((rc == 75)) || fail "a second run while the first held exited $rc, want 75"
grep -q "'nightly' is held by pid" "$work/busy.err" || fail "refusal: $(cat "$work/busy.err")"

# Completion, in an interactive bash with no rc files, the installed command
# first on PATH. Each case: the words typed, then the completions wanted.
"$onlyone" --dir "$locks" backup-db -- true
completion="$root/usr/share/bash-completion/completions/onlyone"
script="$work/completion_check.sh"
cat >"$script" <<CHECK
source '$completion'
complete -p onlyone
complete_line() {
  COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1)); COMPREPLY=()
  _onlyone
  printf '%s\n' "\${COMPREPLY[@]}" | sort | tr '\n' ' '; echo
}
complete_line onlyone --sl
complete_line onlyone --ti
complete_line onlyone --dir '$locks' status ''
complete_line onlyone --dir '$locks' n
complete_line onlyone --dir '$locks' ''
complete_line onlyone status --j
CHECK
got="$(PATH="$root/usr/bin:$PATH" HOME="$work" bash --norc --noprofile -i "$script" 2>"$work/bash.err")" ||
  fail "bash -i failed: $(cat "$work/bash.err")"
want="complete -F _onlyone onlyone
--slots 
--timeout 
backup-db nightly 
nightly 
backup-db nightly status 
--json "
[[ "$got" == "$want" ]] || fail "completion: got"$'\n'"$got"$'\n'"want"$'\n'"$want"
echo "deb_test: $(basename "$deb"): $(stat -c %s "$deb") bytes, lintian clean, command and completion work"
