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
  # logit_store: Debian 12's libhdf5 1.10.8 crashes on many damaged files by itself
  # (tests/fuzz/README.md), so that target keeps going past crashes, and afterwards only an
  # input whose report does not start inside libhdf5 is a finding.
  flags=${FUZZ_FLAGS:-}
  [ "$target" = logit_store ] && flags="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 $flags"
  "$build/${target}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 $flags -artifact_prefix="$crashes/" "$corpus" \
    "$src/corpus/$target" \
    >"$build/fuzz-$target.log" 2>&1
  rc=$?
  if [ "$target" = logit_store ]; then
    grep -E '^#[0-9]+: cov' "$build/fuzz-$target.log" | tail -n 1 | sed "s/^/fuzz: $target: /"
    rc=0 in_hdf5=0
    for artifact in "$crashes"/crash-* "$crashes"/timeout-* "$crashes"/oom-* "$crashes"/leak-*; do
      [ -f "$artifact" ] || continue
      report=$("$build/${target}_fuzz" -rss_limit_mb=2048 -timeout=10 "$artifact" 2>&1) && continue
      # The first frame outside the sanitizers, libFuzzer and libc names who crashed.
      first=$(echo "$report" | grep -E '^ +#[0-9]+ 0x' |
        grep -v -E '__interceptor_|__asan|__sanitizer|__lsan|fuzzer::|libc\.so|malloc|calloc|realloc|operator new' |
        head -n 1)
      if echo "$first" | grep -q 'libhdf5'; then
        in_hdf5=$((in_hdf5 + 1))
      else
        echo "fuzz: $target: $artifact fails outside libhdf5: $first"
        rc=1
      fi
    done
    echo "fuzz: $target: $in_hdf5 inputs crashed inside libhdf5 itself (known, not tvk's)"
  fi
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
