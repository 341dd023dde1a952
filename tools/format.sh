#!/usr/bin/env bash
# clang-format-14 with the tree's .clang-format, over C++ files.
#
#   tools/format.sh --check [PATH...]   list files that are not formatted, with
#                                       the number of lines that would change;
#                                       exit 1 if any
#   tools/format.sh --fix [PATH...]     format them in place
#
# PATH: files or directories (default: the whole tree, third_party/ excepted).
# CI (./run test) checks the directories listed in tools/formatted_dirs.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLANG_FORMAT="${CLANG_FORMAT:-clang-format-14}"
STYLE="${FORMAT_STYLE_FILE:-$ROOT/.clang-format}"

mode="${1:-}"
case "$mode" in
  --check | --fix) shift ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
[[ $# -gt 0 ]] || { cd "$ROOT"; set -- .; }

mapfile -t files < <(find "$@" \( -name third_party -o -name 'bazel-*' -o -name .git \) -prune \
  -o -type f \( -name '*.cc' -o -name '*.h' \) -print | sort)
if ((${#files[@]} == 0)); then
  echo "format: no C++ files under: $*" >&2
  exit 2
fi

if [[ "$mode" == --fix ]]; then
  "$CLANG_FORMAT" --style="file:$STYLE" -i "${files[@]}"
  exit 0
fi

unformatted=0
for file in "${files[@]}"; do
  lines="$("$CLANG_FORMAT" --style="file:$STYLE" --dry-run "$file" 2>&1 | grep -c 'warning:' || true)"
  if ((lines > 0)); then
    echo "format: $file: $lines lines differ (tools/format.sh --fix $file)"
    unformatted=$((unformatted + 1))
  fi
done
echo "format: ${#files[@]} files checked, $unformatted not formatted"
((unformatted == 0))
