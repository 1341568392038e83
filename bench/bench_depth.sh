#!/usr/bin/env bash
# bench/bench_depth.sh -- compile time against depth: for each N, a trained model of N layers
# `h = relu(dense(h, 8))` (forward, backward and SGD update: what the scheduler and the memory
# planner see), timed for `dlc --mem-report` and `dlc -o` (C written to a temporary file),
# each under `ulimit -v 4000000` and a timeout. Prints a Markdown table for bench/RESULTS.md:
# exit status, wall and CPU seconds, peak memory.
#
# Usage:  bench/bench_depth.sh [N...]   (default: 100 1000 10000 100000)
#         DLC=path/to/dlc TIMEOUT=60 bench/bench_depth.sh ...   (another build; per-run limit)
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DLC=${DLC:-$REPO/build/dlc}
TIMEOUT=${TIMEOUT:-60}
sizes=${*:-100 1000 10000 100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

model() {
  awk -v n="$1" 'BEGIN {
    print "model m {\n  input image: f32[784]\n  input label: i32[]\n  h = image"
    for (i = 0; i < n; i++) print "  h = relu(dense(h, 8))"
    print "  logits = dense(h, 10)\n}\ntrain m {"
    print "  data = mnist(image = image, label = label)\n  loss = cross_entropy(logits, label)"
    print "  optimizer = sgd(lr = 0.1)\n  batch = 8\n  epochs = 1\n}" }'
}

# one timed run: "exit E, W s wall, C s CPU, M MB" (or "over T s" when it timed out)
timed() {
  ( ulimit -v 4000000
    exec timeout "$TIMEOUT" /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$DLC" "$@" ) \
    >/dev/null 2>"$tmp/err"
  local rc=$?
  if [ "$rc" = 124 ]; then echo "over $TIMEOUT s (stopped)"; return; fi
  read -r wall user sys rss < <(tail -n 1 "$tmp/time")
  awk -v rc="$rc" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
    'BEGIN { printf "exit %d, %.2f s wall, %.2f s CPU, %d MB\n", rc, w, u + s, m / 1024 }'
}

echo "| layers | \`dlc --mem-report\` | \`dlc -o m.c\` |"
echo "|---:|---|---|"
for n in $sizes; do
  model "$n" >"$tmp/m.dl"
  report=$(timed --mem-report "$tmp/m.dl")
  emit=$(timed "$tmp/m.dl" -o "$tmp/m.c")
  echo "| $n | $report | $emit |"
done
