#!/usr/bin/env bash
# Fails if any C++ file in the tree differs from clang-format's output (.clang-format).
# With --fix, reformats them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.hpp' '*.cpp' 2>/dev/null || find include src tools tests bench -name '*.[ch]pp')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
