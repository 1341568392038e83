#!/usr/bin/env bash
# End to end: early stopping (tests/e2e/early_stopping.dl) triggers, and the test split is
# evaluated with the weights of the best epoch:
#   1. run A (up to 200 epochs, patience 4) stops early; the report lists the monitored
#      validation value of every epoch run, the best epoch is their minimum, training ran
#      exactly `patience` epochs past it, the weights were restored and re-measure the best
#      value;
#   2. run B trains the same model for exactly best_epoch epochs: the training is the same
#      (initialisation, split and every epoch's shuffle come from the seed), so its test
#      metrics must equal run A's; run C, the same file without early_stopping, trained for
#      stopped_epoch epochs gives other test metrics, so run A did not test its last weights.
#   early_stopping.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/tests/e2e/early_stopping.dl"
"$dlc" --run "$model" --report "$tmp/a.json" | tee "$tmp/a.txt"
grep -q "^early stopping: val_mse has not improved for 4 epochs; restored the weights of epoch" "$tmp/a.txt"
read -r best stopped < <(python3 -c '
import json, sys
es = json.load(open(sys.argv[1]))["early_stopping"]
print(es["best_epoch"], es["stopped_epoch"])' "$tmp/a.json")
"$dlc" --run "$model" -q -D epochs="$best" --report "$tmp/b.json"
grep -v "^  early_stopping = " "$model" >"$tmp/no_stopping.dl"
"$dlc" --run "$tmp/no_stopping.dl" -q -D epochs="$stopped" --report "$tmp/c.json"
python3 - "$tmp/a.json" "$tmp/b.json" "$tmp/c.json" <<'PY'
import json, sys
a, b, c = (json.load(open(p)) for p in sys.argv[1:])
es = a["early_stopping"]
vals = es["values"]
assert es["monitor"] == "val_mse" and es["mode"] == "min" and es["patience"] == 4, es
assert len(vals) == len(a["epochs"]) == es["stopped_epoch"] < a["epochs_planned"], es
assert vals == [e["metrics"]["val"]["mse"] for e in a["epochs"]], vals
best = es["best_epoch"]
assert vals[best - 1] == min(vals) == es["best"] and es["stopped_epoch"] == best + 4, es
assert es["weights_restored"] is True and abs(es["restored_value"] - es["best"]) < 1e-9, es
ta, tb, tc = a["test"]["metrics"], b["test"]["metrics"], c["test"]["metrics"]
assert len(b["epochs"]) == best and all(abs(ta[k] - tb[k]) < 1e-9 for k in ta), (ta, tb)
assert c["early_stopping"] is None and len(c["epochs"]) == es["stopped_epoch"], c
assert abs(ta["mse"] - tc["mse"]) > 1e-6, (ta, tc)
print(f"stopped after epoch {es['stopped_epoch']}, best epoch {best}: test mse {ta['mse']:.4f} "
      f"with the restored weights, {tc['mse']:.4f} with the last ones")
print("1 passed, 0 failed")
PY
