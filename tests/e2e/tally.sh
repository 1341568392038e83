# tally.sh — sourced by the e2e scripts that count their checks: a scratch directory $tmp,
# removed on exit, with its own compiled-model cache; ok and bad count a check that passed or
# failed (bad prints FAIL and what); tally_end NAME prints the count and fails if any failed.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
tally_end() { echo "$1: $passed passed, $failed failed"; [ "$failed" = 0 ]; }
