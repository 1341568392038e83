#!/usr/bin/env bash
# Run the frontend fuzzer over a corpus seeded with every .dl file in the repository (models,
# golden tests, gradient checks) and with generated inputs at and past the frontend's structural
# limits (docs/language.md, Limits): long + chains, deep nesting of brackets and calls, long runs
# of unary minus, in a model and in a param. A crash, sanitizer report or abort fails the test.
#   run.sh FUZZER REPO_ROOT [SECONDS]
# DLC_FUZZ_RUNS=N runs N executions instead of a time limit (the long run of bench/RESULTS.md).
set -euo pipefail
fuzzer=$1 root=$2 secs=${3:-${DLC_FUZZ_SECONDS:-30}}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
find "$root/models" "$root/tests" -name '*.dl' -exec cp {} "$corpus/" \;

# WORD repeated N times
repeat() { local out="" i; for ((i = 0; i < $2; i++)); do out+=$1; done; printf '%s' "$out"; }
# a model whose value y is EXPR, trained on the sine data (so lowering and every pass run)
model_with() {
  printf 'model m {\n  input x: f32[1]\n  input t: f32[1]\n  y = %s\n}\n' "$1"
  printf 'train m {\n  data = sine(x = x, y = t, n = 64)\n  loss = mse(y, t)\n'
  printf '  optimizer = sgd(lr = 0.1)\n  batch = 8\n  epochs = 1\n}\n'
}
for n in 999 1000 1001 1500; do # the expression depth limit is 1000
  model_with "x$(repeat ' + x' "$n")" >"$corpus/gen_chain_$n.dl"
  printf 'param p = 1%s\n%s' "$(repeat ' + 1' "$n")" "$(model_with 'x * p')" >"$corpus/gen_param_$n.dl"
done
for n in 255 256 257 400; do # at most 256 brackets open at once
  model_with "$(repeat '(' "$n")x$(repeat ')' "$n")" >"$corpus/gen_parens_$n.dl"
  model_with "$(repeat 'relu(' "$n")x$(repeat ')' "$n")" >"$corpus/gen_calls_$n.dl"
done
for n in 999 1001 10001; do # unary minus: depth, and the parser's 10000 pending tokens
  model_with "$(repeat '- ' "$n")x" >"$corpus/gen_minus_$n.dl"
done
max_len=$(find "$corpus" -type f -printf '%s\n' | sort -n | tail -1)
limit=(-max_total_time="$secs")
[ -n "${DLC_FUZZ_RUNS:-}" ] && limit=(-runs="$DLC_FUZZ_RUNS")
"$fuzzer" "${limit[@]}" -max_len="$max_len" -timeout=10 -print_final_stats=1 "$corpus" 2>&1 | tail -5
echo "fuzz: 1 passed, 0 failed"
