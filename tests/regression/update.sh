#!/usr/bin/env bash
# Regression cases (tests/regression/cases/<case>.yaml -> <case>.expected).
#
#   tests/regression/update.sh              run the regression tests (compare only)
#   tests/regression/update.sh --update     rewrite every .expected from the current code
#   tests/regression/update.sh --update --build DIR [--filter GTEST_FILTER]
#
# --update sets TVK_REGRESSION_UPDATE=1 for tvk_regression_tests, whose case runner then writes
# the points table's golden text instead of comparing it: one value per line,
# `<row>.<column> = <value>` after one `kind.<column> = <kind>` line per column (doubles from
# integer statistics exact, others rounded to 12 significant digits), so that a diff names the
# row and column that changed. Review `git diff tests/regression/cases/` before committing:
# every change there is a change in tvk's numbers.
# The build folder defaults to build/ (make test's); the binary must be built already
# (cmake --build build --target tvk_regression_tests).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build"
update=0
filter="Regression/RegressionCaseTest.*:RegressionCasesTest.*"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --update) update=1 ;;
    --build) build="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "update.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

binary="$build/tests/tvk_regression_tests"
if [[ ! -x "$binary" ]]; then
  echo "update.sh: $binary not found; build it first:" >&2
  echo "  cmake --build $build --target tvk_regression_tests" >&2
  exit 2
fi

if [[ $update -eq 1 ]]; then
  TVK_REGRESSION_UPDATE=1 "$binary" --gtest_filter="$filter"
  echo "updated: git diff --stat -- tests/regression/cases/"
  git -C "$root" diff --stat -- tests/regression/cases/ || true
else
  "$binary" --gtest_filter="$filter"
fi
