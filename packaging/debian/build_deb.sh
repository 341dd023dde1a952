#!/usr/bin/env bash
# Builds onlyone_<VERSION>_amd64.deb in OUT_DIR and prints its path.
#
#   build_deb.sh ONLYONE_BINARY MAN_PAGE VERSION_FILE OUT_DIR
#
# ONLYONE_BINARY is the release build of //cli:onlyone (static, stripped:
# //packaging:onlyone_release). The other inputs are the files next to this
# script and the LICENSE at the top of the checkout (or of the runfiles).
#
# Layout (Debian policy): /usr/bin/onlyone, the man page gzipped with -9n
# (no name, no time stamp: reproducible), bash completion loaded on demand
# by bash-completion, copyright (DEP-5) and changelog.gz in
# /usr/share/doc/onlyone, md5sums, and the one lintian override (the
# static executable, which is deliberate: lintian-overrides says why). Files are root-owned (dpkg-deb
# --root-owner-group: no fakeroot needed) and dated SOURCE_DATE_EPOCH (the
# changelog's date unless set), so two builds of one tree are identical.
set -euo pipefail

if (($# != 4)); then
  echo "usage: build_deb.sh ONLYONE_BINARY MAN_PAGE VERSION_FILE OUT_DIR" >&2
  exit 64
fi
binary="$1"
man_page="$2"
version="$(tr -d '[:space:]' <"$3")"
out_dir="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
license="$here/../../LICENSE"

if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "build_deb.sh: version '$version' in $3 is not MAJOR.MINOR.PATCH" >&2
  exit 65
fi
# A dynamic executable has a program interpreter (the dynamic loader).
if readelf -l "$binary" | grep -q INTERP; then
  echo "build_deb.sh: $binary is not statically linked; package the release build" \
       "(bazel build //packaging:onlyone_release)" >&2
  exit 65
fi

root="$(mktemp -d "${TMPDIR:-/tmp}/onlyone-deb.XXXXXX")"
trap 'rm -rf "$root"' EXIT
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(date -d "$(sed -n 's/^ -- .*  //p' "$here/changelog.in")" +%s)}"

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/doc/onlyone" \
  "$root/usr/share/lintian/overrides"
install -m 0755 "$binary" "$root/usr/bin/onlyone"
# What dh_strip does: no symbol table, no compiler notes.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/onlyone"
gzip -9n <"$man_page" >"$root/usr/share/man/man1/onlyone.1.gz"
install -m 0644 "$here/onlyone.bash-completion" "$root/usr/share/bash-completion/completions/onlyone"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/onlyone"
sed "s/@VERSION@/$version/" "$here/changelog.in" | gzip -9n >"$root/usr/share/doc/onlyone/changelog.gz"
# DEP-5: the license's full text, each line indented, blank lines as " .".
{
  cat "$here/copyright.in"
  tail -n +2 "$license" | sed 's/^$/./; s/^/ /'
} >"$root/usr/share/doc/onlyone/copyright"
chmod 0644 "$root"/usr/share/man/man1/* "$root"/usr/share/doc/onlyone/*

(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
installed_kib="$(du -sk --apparent-size "$root/usr" | cut -f1)"
# Built-Using (Debian policy 7.8): the sources of what the static command
# contains, as installed on the build machine.
built_using="$(dpkg-query -W -f='${source:Package} (= ${source:Version})\n' \
  libc6-dev libstdc++-12-dev libzookeeper-mt-dev | paste -sd, | sed 's/,/, /g')"
sed "s/@VERSION@/$version/; s/@INSTALLED_SIZE@/$installed_kib/; s/@BUILT_USING@/$built_using/" \
  "$here/control.in" >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out_dir"
deb="$out_dir/onlyone_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
