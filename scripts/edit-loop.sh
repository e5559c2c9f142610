#!/usr/bin/env bash
# The plugin author's edit loop, timed per language: a filter made by `plugin new`, built and
# blessed once (toolchains installed, caches warm), then ROUNDS times: edit the source (a
# comment appended: the component changes, the rule does not) and time `plugin test`, which
# rebuilds the stale component, compiles it (reusing unchanged functions) and runs the golden
# test. Prints the median and the fastest round per language; `make bench` runs it.
#
#   bash scripts/edit-loop.sh [SWITCHYARD] [ROUNDS]
set -euo pipefail
bin=$(realpath "${1:-target/release/switchyard}")
rounds=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A cache of its own, so the first round is not helped by earlier runs; tools stay shared.
export XDG_CACHE_HOME="$work/cache"
mkdir -p "$XDG_CACHE_HOME/switchyard"
ln -s "${HOME}/.cache/switchyard/tools" "$XDG_CACHE_HOME/switchyard/tools" 2>/dev/null || true

printf '%-8s %-10s %-10s %s\n' language median fastest "(edit → plugin test result, s)"
for lang in rust python js c; do
  case $lang in
    rust) src=src/lib.rs; comment='//' ;;
    python) src=app.py; comment='#' ;;
    js) src=app.js; comment='//' ;;
    c) src=app.c; comment='//' ;;
  esac
  dir="$work/$lang-filter"
  "$bin" plugin new "edit-$lang" --kind filter --lang "$lang" --dir "$dir" >/dev/null
  (cd "$dir" && "$bin" plugin build >/dev/null 2>&1 && "$bin" plugin test --bless >/dev/null 2>&1)
  times=()
  for i in $(seq "$rounds"); do
    echo "$comment edit $i" >> "$dir/$src"
    start=$(date +%s.%N)
    (cd "$dir" && "$bin" plugin test >/dev/null 2>&1)
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | sed -n "$(( (rounds + 1) / 2 ))p")
  fastest=$(echo "$sorted" | head -1)
  printf '%-8s %-10.2f %-10.2f\n' "$lang" "$median" "$fastest"
done
