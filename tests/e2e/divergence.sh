#!/usr/bin/env bash
# End to end: a run whose loss turns NaN (tests/e2e/divergence.dl, NaN a few steps into epoch 2)
# is an error, never a result:
#   1. with early stopping: exit status 1, the error names the loss (NaN), the epoch, the step
#      and the hint; the report is written with "diverged" and no test figures; the weights file
#      holds the best epoch's weights, byte for byte those of a run of that one epoch;
#   2. without early stopping: the same error, and a weights file already there is left as it
#      was (the run keeps no earlier copy of the weights to write).
#   divergence.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/tests/e2e/divergence.dl"
status=0
"$dlc" --run "$model" -q --report "$tmp/a.json" --save-weights "$tmp/a.dlw" 2>"$tmp/a.err" || status=$?
cat "$tmp/a.err"
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status, want 1"; exit 1; }
grep -q "error: training diverged: the loss is not finite (NaN) at epoch 2, step [0-9]*; lower the learning rate or clip the gradients" "$tmp/a.err"
grep -q "$tmp/a.dlw holds the weights of epoch 1" "$tmp/a.err"
"$dlc" --run "$model" -q -D epochs=1 --save-weights "$tmp/one.dlw"
cmp "$tmp/a.dlw" "$tmp/one.dlw"
python3 - "$tmp/a.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r["diverged"]
assert d["epoch"] == 2 and d["loss"] == "nan", d
steps_per_epoch = -(-r["split"]["train"] // r["batch"])
assert steps_per_epoch < d["step"] <= 2 * steps_per_epoch, (d, steps_per_epoch)
assert len(r["epochs"]) == 1 and r["epochs"][0]["train_loss"] is not None, r["epochs"]
assert r["test"]["loss"] is None and r["test"]["accuracy"] is None, r["test"]
es = r["early_stopping"]
assert es["best_epoch"] == 1 and es["weights_restored"] is True, es
PY
grep -v "^  early_stopping = " "$model" >"$tmp/no_stopping.dl"
echo "weights of an earlier run" >"$tmp/b.dlw"
status=0
"$dlc" --run "$tmp/no_stopping.dl" -q --save-weights "$tmp/b.dlw" 2>"$tmp/b.err" || status=$?
cat "$tmp/b.err"
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status, want 1"; exit 1; }
grep -q "error: training diverged: the loss is not finite (NaN) at epoch 2" "$tmp/b.err"
grep -q "$tmp/b.dlw was not written (without early stopping no earlier weights are kept)" "$tmp/b.err"
[ "$(cat "$tmp/b.dlw")" = "weights of an earlier run" ]
echo "2 passed, 0 failed"
