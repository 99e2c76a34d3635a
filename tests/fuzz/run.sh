#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target of build-fuzz/ for FUZZ_SECONDS with its corpus, then
# replays its committed crash regressions. The corpus grows in build-fuzz/corpus/<target>/ (a
# copy of tests/fuzz/corpus/<target>/ at first), so the committed seeds stay small; a crash
# input is written to build-fuzz/crashes/<target>/: fix it, then copy it into
# tests/fuzz/regressions/<target>/ (the ctest entry fuzz_replay_<target> then replays it).
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
set -uo pipefail
build=$1 seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
status=0
export LSAN_OPTIONS="suppressions=$src/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for target in "$@"; do
  corpus=$build/corpus/$target crashes=$build/crashes/$target
  mkdir -p "$corpus" "$crashes"
  echo "fuzz: $target for ${seconds}s (corpus $corpus, crashes $crashes/)"
  "$build/${target}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 ${FUZZ_FLAGS:-} -artifact_prefix="$crashes/" "$corpus" \
    "$src/corpus/$target" \
    >"$build/fuzz-$target.log" 2>&1
  rc=$?
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/fuzz-$target.log" |
    sed "s/^/fuzz: $target: /"
  if [ $rc -ne 0 ]; then
    grep -E -A30 '^==[0-9]+==ERROR|runtime error|invariant broken|terminate called|deadly signal|Test unit written' \
      "$build/fuzz-$target.log" | head -60
    echo "fuzz: $target FAILED (exit $rc; log $build/fuzz-$target.log)"
    status=1
  fi
  regressions=()
  for f in "$src/regressions/$target"/*; do [ -f "$f" ] && regressions+=("$f"); done
  if [ ${#regressions[@]} -gt 0 ]; then
    if ! "$build/${target}_fuzz" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" \
      >"$build/regressions-$target.log" 2>&1; then
      tail -40 "$build/regressions-$target.log"
      echo "fuzz: $target: a regression input fails again (log $build/regressions-$target.log)"
      status=1
    else
      echo "fuzz: $target: ${#regressions[@]} regression inputs pass"
    fi
  fi
done
exit $status
