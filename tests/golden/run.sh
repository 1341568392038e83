#!/usr/bin/env bash
# Golden-output tests for the compiler: every tests/golden/<suite>/NAME.dl is compiled with the
# arguments on its first line ("# ARGS: --dump-after=autodiff"; default --dump-after=dce), from
# inside its folder so file names in diagnostics are stable. Standard output, standard error and
# the exit status together must equal NAME.expected.
#   tests/golden/run.sh path/to/dlc            run all, print a diff for each mismatch
#   tests/golden/run.sh path/to/dlc --update   rewrite the .expected files (review the diff!)
#   tests/golden/run.sh path/to/dlc FILTER     only cases whose path contains FILTER
set -u
dlc=$(realpath "$1"); shift
update=0 filter=""
for a in "$@"; do
  case "$a" in --update) update=1 ;; *) filter="$a" ;; esac
done
root=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
export DLC_CACHE="${DLC_CACHE:-$(mktemp -d)}"
for dl in "$root"/*/*.dl; do
  case "$dl" in *"$filter"*) ;; *) continue ;; esac
  dir=$(dirname "$dl") name=$(basename "$dl" .dl)
  args=$(sed -n '1s/^# ARGS: *//p' "$dl")
  [ -n "$args" ] || args="--dump-after=dce"
  actual=$( cd "$dir" && { "$dlc" $args "$name.dl" 2>"$name.stderr.tmp"; echo "--- exit $?"; } )
  actual="$actual"$'\n'"--- stderr"$'\n'"$(cat "$dir/$name.stderr.tmp")"
  rm -f "$dir/$name.stderr.tmp"
  actual=$(printf '%s' "$actual") # drop trailing newlines, as $(cat expected) does
  expected_file="$dir/$name.expected"
  if [ "$update" = 1 ]; then
    printf '%s\n' "$actual" >"$expected_file"
    passed=$((passed + 1))
  elif [ -f "$expected_file" ] && [ "$(cat "$expected_file")" = "$actual" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL ${dl#"$root"/}"
    diff -u "$expected_file" <(printf '%s\n' "$actual") | head -40
  fi
done
echo "golden: $passed passed, $failed failed"
[ "$failed" = 0 ]
