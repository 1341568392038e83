#!/usr/bin/env bash
# End to end: a block instance called twice really shares its weights. A siamese fit of
# y = sin(x) as pred = f(x) - f(-x) (odd by construction) with one instance of an MLP block
# has exactly half the parameters of the same model with two one-off calls (--mem-report);
# the shared model trains (test MSE below 1e-3), its weights file holds the instance's
# parameters once (enc.dense1.w, ...), and compiles again for inference with --weights.
#   blocks_shared.sh DLC REPO_ROOT
set -eu
dlc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
pass=0 fail=0
check() { # check WHAT CONDITION...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
model() { # model BODY: the sine model whose prediction is BODY
  cat <<DL
block mlp(x) {
  h = relu(dense(x, 32))
  h = relu(dense(h, 32))
  return dense(h, 1)
}
model sine {
  input x: f32[1]
  input y: f32[1]
$1
}
train sine {
  data = sine(x = x, y = y, n = 2048)
  loss = mse(pred, y)
  optimizer = adam(lr = 0.003)
  batch = 32
  epochs = 8
  seed = 1
}
DL
}
model "  enc = mlp()
  pred = enc(x) - enc(-x)" >"$tmp/shared.dl"
model "  pred = mlp(x) - mlp(-x)" >"$tmp/unshared.dl"

"$dlc" --mem-report --json "$tmp/shared.dl" >"$tmp/shared.json"
"$dlc" --mem-report --json "$tmp/unshared.dl" >"$tmp/unshared.json"
s=$(json "$tmp/shared.json" '["parameters"]') u=$(json "$tmp/unshared.json" '["parameters"]')
echo "parameter bytes: shared $s, unshared $u"
check "the unshared model has twice the parameters ($u vs 2 x $s)" [ "$u" = $((2 * s)) ]

"$dlc" --dump-after=lower "$tmp/shared.dl" | grep -o 'param "[^"]*"' >"$tmp/names"
check "one set of parameters, named by the instance" \
  [ "$(tr '\n' ' ' <"$tmp/names")" = 'param "enc.dense1.w" param "enc.dense1.b" param "enc.dense2.w" param "enc.dense2.b" param "enc.dense3.w" param "enc.dense3.b" ' ]

"$dlc" --run "$tmp/shared.dl" -q --report "$tmp/report.json" --save-weights "$tmp/w.bin" >/dev/null
mse=$(json "$tmp/report.json" '["test"]["loss"]')
echo "shared model: test mse $mse (need < 1e-3)"
check "the shared model trains" python3 -c "import sys; sys.exit(0 if $mse < 1e-3 else 1)"
check "the weights file loads for inference" "$dlc" --weights "$tmp/w.bin" "$tmp/shared.dl" -o "$tmp/infer.c"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
