#!/usr/bin/env bash
# bench/bench_memory.sh -- the memory plan's figures for the training step of models at their
# batch size (128 for the MNIST models): planned vs no-reuse bytes (`dlc --mem-report --json`,
# and with --no-reuse), and the bytes a real run allocated for the model (`dlc --run -D
# epochs=1 --report`, its "memory"), which the plan must equal exactly on the CPU. Prints a
# Markdown table for bench/RESULTS.md.
#
# Usage:  bench/bench_memory.sh [MODEL...]   (default: mnist_mlp mnist_cnn; needs the MNIST data)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DLC=${DLC:-$REPO/build/dlc}
models=${*:-mnist_mlp mnist_cnn}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE=${DLC_CACHE:-$tmp/cache}

echo "| model | batch | weights + state | arena planned | arena without reuse | arena saved | total planned | total without reuse | total saved | allocated by the run | equal |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for m in $models; do
  f=$REPO/models/$m.dl
  "$DLC" --mem-report --json "$f" >"$tmp/plan.json"
  "$DLC" --run -q -D epochs=1 "$f" --report "$tmp/run.json" >/dev/null
  python3 - "$m" "$tmp/plan.json" "$tmp/run.json" <<'PY'
import json, sys
m, p, r = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
ran = r["memory"]["total"]
pct = lambda a, b: f"{100 * (b - a) / b:.1f}%"
print(f"| {m} | {p['batch']} | {p['weights']:,} | {p['arena']:,} | {p['arena_no_reuse']:,} | "
      f"{pct(p['arena'], p['arena_no_reuse'])} | {p['total_planned']:,} | {p['total_no_reuse']:,} | "
      f"{pct(p['total_planned'], p['total_no_reuse'])} | {ran:,} | {'yes' if ran == p['total_planned'] else 'NO'} |")
PY
done
echo
echo "dlc $(git -C "$REPO" rev-parse --short HEAD), $(date -u +%Y-%m-%d), $(uname -m)"
