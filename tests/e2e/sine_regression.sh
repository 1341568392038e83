#!/usr/bin/env bash
# End to end: models/sine_regression.dl (ReLU units fitting sin on [-pi, pi], trained on the
# MSE while watching the MAE) reaches a test MSE below 1e-4, and the report holds the watched
# metric for training and validation in every epoch and for the test split.
#   sine_regression.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/models/sine_regression.dl" --report "$tmp/report.json"
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["dataset"] == "sine" and r["split"] == {"train": 3687, "validation": 409, "test": 1024}, r["split"]
assert len(r["epochs"]) == 20, len(r["epochs"])
for e in r["epochs"]:
    m = e["metrics"]
    assert m["train"]["mae"] > 0 and m["val"]["mae"] > 0 and e["val_loss"] > 0, e
    assert e["train_accuracy"] is None and e["val_accuracy"] is None, e
assert r["early_stopping"] is None
mse, mae = r["test"]["loss"], r["test"]["metrics"]["mae"]
# the MAE of a fit can never exceed the root of its MSE
assert 0 < mae <= mse ** 0.5 + 1e-9, (mse, mae)
print(f"test mse {mse:.3g} (need < 1e-4), test mae {mae:.3g}")
print("1 passed, 0 failed" if mse < 1e-4 else "0 passed, 1 failed")
sys.exit(0 if mse < 1e-4 else 1)
PY
