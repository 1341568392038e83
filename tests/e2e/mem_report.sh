#!/usr/bin/env bash
# End to end: `dlc --mem-report` predicts, before anything runs, exactly the bytes a run
# allocates for the model (its --report's "memory": weights, arena, input batches, early
# stopping's copy), for a regression MLP and for a model with early stopping; --batch N equals
# compiling with batch N; --fit BYTES gives the largest batch whose plan fits (that batch fits,
# the next does not); --no-reuse plans more; bad options are errors with exit status 1.
#   mem_report.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
pass=0 fail=0
check() { # check WHAT CONDITION...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# 1. predicted total == allocated total
for m in "$root/models/sine_regression.dl" "$root/tests/e2e/early_stopping.dl"; do
  "$dlc" --run "$m" -q --report "$tmp/run.json" >/dev/null
  "$dlc" --mem-report --json "$m" >"$tmp/plan.json"
  ran=$(json "$tmp/run.json" '["memory"]["total"]') planned=$(json "$tmp/plan.json" '["total_planned"]')
  echo "$(basename "$m"): allocated $ran bytes, planned $planned"
  check "$m: planned total equals allocated" [ "$ran" = "$planned" ]
  for k in weights arena inputs early_stopping_copy; do
    a=$(json "$tmp/run.json" "[\"memory\"][\"$k\"]") p=$(json "$tmp/plan.json" "[\"$k\"]")
    check "$m: $k planned $p, allocated $a" [ "$a" = "$p" ]
  done
done
check "early stopping's copy counted" [ "$(json "$tmp/plan.json" '["early_stopping_copy"]')" -gt 0 ]

# 2. --batch N equals compiling with batch N
cat >"$tmp/bs.dl" <<'DL'
param bs = 32
model m {
  input x: f32[1, 12, 12]
  input y: i32[]
  h = max_pool2d(relu(conv2d(x, 4, 3, padding = same)), 2)
  logits = dense(relu(dense(flatten(h), 16)), 3)
}
train m {
  loss = cross_entropy(logits, y)
  optimizer = adam(lr = 0.01)
  batch = bs
}
DL
for b in 1 7 50 300; do
  a=$("$dlc" --mem-report --json --batch $b "$tmp/bs.dl" | python3 -c "import json,sys; print(json.load(sys.stdin)['total_planned'])")
  c=$("$dlc" --mem-report --json -D bs=$b "$tmp/bs.dl" | python3 -c "import json,sys; print(json.load(sys.stdin)['total_planned'])")
  check "--batch $b ($a) equals batch = $b ($c)" [ "$a" = "$c" ]
done

# 3. --fit: the batch fits, the next one does not
"$dlc" --mem-report --json --fit 3M "$tmp/bs.dl" >"$tmp/fit.json"
fb=$(json "$tmp/fit.json" '["batch"]')
t0=$("$dlc" --mem-report --json --batch "$fb" "$tmp/bs.dl" | python3 -c "import json,sys; print(json.load(sys.stdin)['total_planned'])")
t1=$("$dlc" --mem-report --json --batch $((fb + 1)) "$tmp/bs.dl" | python3 -c "import json,sys; print(json.load(sys.stdin)['total_planned'])")
echo "--fit 3M: batch $fb plans $t0 bytes, batch $((fb + 1)) plans $t1"
check "--fit batch fits" [ "$t0" -le $((3 << 20)) ]
check "--fit next batch does not" [ "$t1" -gt $((3 << 20)) ]
"$dlc" --mem-report --fit 3M --target cuda "$tmp/bs.dl" 2>"$tmp/err" && st=0 || st=$?
check "--fit below the CUDA allowance fails with exit 1" [ "$st" = 1 ]
check "... and says why" grep -q "even batch 1 needs" "$tmp/err"

# 4. --no-reuse plans more, and the table has every row
a=$("$dlc" --mem-report --json "$tmp/bs.dl" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['total_planned'], d['total_no_reuse'])")
b=$("$dlc" --mem-report --json --no-reuse "$tmp/bs.dl" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['total_planned'])")
check "no reuse costs more ($a vs $b)" python3 -c "import sys; p, n = map(int, '$a'.split()); sys.exit(not (p < n and n == $b))"
"$dlc" --mem-report "$tmp/bs.dl" >"$tmp/table"
for row in parameters "optimizer state" "saved activations" gradients "peak transient" workspaces "total planned" "total without reuse"; do
  check "table has '$row'" grep -q "$row" "$tmp/table"
done
"$dlc" --mem-report --dtype f16 --json "$tmp/bs.dl" >"$tmp/f16.json"
check "f16 parameters are half of f32's" python3 -c "
import json; a = json.load(open('$tmp/f16.json')); b = json.load(open('$tmp/plan.json'))
import subprocess; f = json.loads(subprocess.check_output(['$dlc', '--mem-report', '--json', '$tmp/bs.dl']))
assert a['parameters'] * 2 == f['parameters'] and a['total_planned'] < f['total_planned']"
"$dlc" --mem-report --target cuda --json "$tmp/bs.dl" >"$tmp/cuda.json"
check "cuda plans cuBLAS's workspace in the workspaces and adds the context allowance" python3 -c "
import json, subprocess; a = json.load(open('$tmp/cuda.json'))
c = json.loads(subprocess.check_output(['$dlc', '--mem-report', '--json', '$tmp/bs.dl']))
assert a['cublas_workspace'] == 4 << 20 and a['cuda_context'] > 0
assert a['arena'] >= c['arena'] + (4 << 20), (a['arena'], c['arena'])"

# 5. bad options
bad() { # bad EXPECTED-MESSAGE ARGS...
  local want=$1; shift
  "$dlc" "$@" >/dev/null 2>"$tmp/err" && st=0 || st=$?
  check "dlc $* fails with exit 1" [ "$st" = 1 ]
  check "dlc $* says '$want'" grep -qF -- "$want" "$tmp/err"
}
bad "--batch needs --mem-report" --batch 4 "$tmp/bs.dl"
bad "--batch expects a positive integer, got '0'" --mem-report --batch 0 "$tmp/bs.dl"
bad "--fit expects a positive size in bytes" --mem-report --fit 12Q "$tmp/bs.dl"
bad "unknown element type 'f61'; did you mean 'f16'?" --mem-report --dtype f61 "$tmp/bs.dl"
bad "unknown target 'cudaa'; did you mean 'cuda'?" --mem-report --target cudaa "$tmp/bs.dl"
bad "cannot be combined with --run" --mem-report --run "$tmp/bs.dl"
bad "cannot be combined with --batch" --mem-report --fit 1G --batch 3 "$tmp/bs.dl"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
