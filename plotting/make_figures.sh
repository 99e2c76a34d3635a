#!/usr/bin/env bash
# Reproduce the paper's figures: run every configs/paper/*.yaml through `tvk run`, then every
# plotting/<figure>.py, writing results/figures/<figure>.png and .pdf. The figure `generation`
# plots results/generation_llm.h5, which `make generation` writes (a Python experiment: torch and
# transformers drive it, ~30 minutes); without it that figure is SKIPPED.
#
#   bash plotting/make_figures.sh [--force] [FIGURE ...]
#
#   FIGURE ...   only these figures (config stems / script names); default: all
#   --force      rerun every selected config even if its results file is up to date
#
# A config is skipped when its results file was written from it (root attribute config_file) and
# is newer than the config, the tvk binary and (for a logit_store config) the store it reads, so a
# rerun only replots. Environment:
#   TVK=build/tvk   RESULTS=results   PYTHON=/usr/bin/python3   THREADS=0 (all cores)
#   TVK_STORE_DIR=~/.cache/tvk/stores   the machine's store folder (make llm-store): a logit_store
#     config's store that is not at its own path is read from there (store=TVK_STORE_DIR/<file name>)
# Prints each step's wall time and a summary; exits 1 if any step failed (the others still run).
# A plotting script that exits 3 says its input does not exist yet (e.g. finite_n before its
# config is written): reported as SKIPPED, not as a failure.
set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
TVK=${TVK:-build/tvk}
RESULTS=${RESULTS:-results}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-0}
STORE_DIR=${TVK_STORE_DIR:-$HOME/.cache/tvk/stores}
export TVK  # plotting/finite_n.py asks the same binary for its finite-n predictor

force=0
only=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "make_figures: unknown option $arg (try --help)" >&2; exit 2 ;;
    *) only+=("${arg%.yaml}") ;;
  esac
done

if [ ! -x "$TVK" ]; then
  echo "make_figures: $TVK not found or not executable: build it first (make build)" >&2
  exit 2
fi
if ! "$PYTHON" -c 'import numpy, h5py, pandas, matplotlib' 2>/dev/null; then
  echo "make_figures: $PYTHON lacks numpy/h5py/pandas/matplotlib (make deps installs them)" >&2
  exit 2
fi
for f in "${only[@]}"; do
  if [ ! -e "configs/paper/$f.yaml" ] && [ ! -e "plotting/$f.py" ]; then
    echo "make_figures: no configs/paper/$f.yaml and no plotting/$f.py" >&2
    exit 2
  fi
done
mkdir -p "$RESULTS/figures"

selected() {  # selected FIGURE: true when no list was given or FIGURE is in it
  [ ${#only[@]} -eq 0 ] && return 0
  local f
  for f in "${only[@]}"; do [ "$f" = "$1" ] && return 0; done
  return 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
yaml_value() {  # yaml_value KEY FILE: the top-level scalar KEY of a flat YAML file
  sed -n "s/^$1:[[:space:]]*\\([^#]*\\).*/\\1/p" "$2" | head -n 1 | sed 's/[[:space:]]*$//; s/^"\(.*\)"$/\1/'
}

declare -A run_time plot_time run_state plot_state
failed=0
t_start=$(now)

# 1. Sweeps.
for config in configs/paper/*.yaml; do
  [ -e "$config" ] || continue
  figure=$(basename "$config" .yaml)
  selected "$figure" || continue
  name=$(yaml_value name "$config")
  result="$RESULTS/${name:-$figure}.h5"
  inputs=("$config" "$TVK")
  overrides=()
  if [ "$(yaml_value kind "$config")" = logit_store ]; then
    store=$(yaml_value store "$config")
    # A store a make target builds (make llm-store) lives in the machine's store folder.
    if [ -n "$store" ] && [ ! -e "$store" ] && [ -e "$STORE_DIR/$(basename "$store")" ]; then
      store="$STORE_DIR/$(basename "$store")"
      overrides+=("store=$store")
    fi
    [ -n "$store" ] && inputs+=("$store")
    # ... and may not exist yet.
    if [ -n "$store" ] && [ ! -e "$store" ]; then
      echo "== $figure: $store does not exist, nor $STORE_DIR/$(basename "$store") (make llm-store makes $STORE_DIR/smollm2.h5): skipped"
      run_state[$figure]=SKIPPED
      run_time[$figure]=0.0
      continue
    fi
  fi
  fresh=1
  if [ $force -eq 1 ] || [ ! -e "$result" ]; then
    fresh=0
  else
    for input in "${inputs[@]}"; do
      [ "$result" -nt "$input" ] || fresh=0
    done
    # Another config with the same name (configs/heavy_tails.yaml, ...) may have overwritten it.
    if [ $fresh -eq 1 ] && ! "$PYTHON" -c 'import sys, h5py
sys.exit(h5py.File(sys.argv[1], "r").attrs.get("config_file") != sys.argv[2])' \
        "$result" "$config" 2>/dev/null; then
      echo "   $result was written by another config: rerunning $config"
      fresh=0
    fi
  fi
  if [ $fresh -eq 1 ]; then
    echo "== $figure: $result is up to date (newer than ${inputs[*]}), not rerun"
    run_state[$figure]="up to date"
    run_time[$figure]=0.0
    continue
  fi
  echo "== $figure: $TVK run $config ${overrides[*]} --out $RESULTS --progress log"
  t0=$(now)
  if "$TVK" run "$config" "${overrides[@]}" --out "$RESULTS" --progress log --threads "$THREADS" --quiet; then
    run_state[$figure]=ran
  else
    run_state[$figure]=FAILED
    failed=1
  fi
  run_time[$figure]=$(elapsed "$t0" "$(now)")
  echo "   $figure: sweep ${run_state[$figure]} in ${run_time[$figure]} s"
done

# 2. Figures.
for script in plotting/*.py; do
  figure=$(basename "$script" .py)
  [ "$figure" = common ] && continue
  selected "$figure" || continue
  echo "== $figure: $PYTHON $script --results $RESULTS"
  t0=$(now)
  "$PYTHON" "$script" --results "$RESULTS"
  rc=$?
  case $rc in
    0) plot_state[$figure]=ok ;;
    3) plot_state[$figure]=SKIPPED ;;
    *) plot_state[$figure]="FAILED (exit $rc)"; failed=1 ;;
  esac
  plot_time[$figure]=$(elapsed "$t0" "$(now)")
done

# 3. Summary.
echo
printf '%-18s %-12s %9s   %-16s %8s\n' figure sweep 'sweep s' plot 'plot s'
figures=$( (for k in "${!run_state[@]}" "${!plot_state[@]}"; do echo "$k"; done) | sort -u)
for figure in $figures; do
  printf '%-18s %-12s %9s   %-16s %8s\n' "$figure" "${run_state[$figure]:-no config}" \
    "${run_time[$figure]:--}" "${plot_state[$figure]:-no script}" "${plot_time[$figure]:--}"
done
echo "total: $(elapsed "$t_start" "$(now)") s; figures in $RESULTS/figures/"
if [ $failed -ne 0 ]; then
  echo "make_figures: some steps FAILED (see above)" >&2
  exit 1
fi
