#!/usr/bin/env bash
# End to end: every metric appears in the per-epoch progress lines and in the report (training
# and validation of every epoch, and the test split), with values that agree with each other:
# top-3 accuracy >= accuracy, the listed loss equals the loss, 0 <= mse <= mae <= 1 for
# probabilities against one-hot labels. Model: tests/e2e/metrics.dl (MNIST, 2 short epochs).
#   metrics.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
"$dlc" --run "$root/tests/e2e/metrics.dl" --report "$tmp/report.json" | tee "$tmp/out.txt"
for word in "loss" "acc" "top_3" "mse" "mae" "val_loss" "val_acc" "val_top_3" "val_mse" "val_mae"; do
  [ "$(grep -c "^epoch .*  $word [0-9]" "$tmp/out.txt")" = 2 ] || { echo "no '$word' in the epoch lines"; exit 1; }
done
grep -q "^test  loss [0-9.]*  accuracy [0-9.]*  top_3 [0-9.]*  mse [0-9.]*  mae [0-9.]*  (10000 samples, evaluated once)" \
  "$tmp/out.txt" || { echo "the test line lacks a metric"; exit 1; }
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = ["loss", "accuracy", "top_3", "mse", "mae"]
def check(m, loss, acc, where):
    assert list(m) == names, (where, m)
    assert abs(m["loss"] - loss) < 1e-9 and abs(m["accuracy"] - acc) < 1e-12, (where, m)
    assert 0 < m["accuracy"] <= m["top_3"] <= 1, (where, m)
    assert 0 < m["mse"] <= m["mae"] <= 1, (where, m)
assert len(r["epochs"]) == 2
for e in r["epochs"]:
    check(e["metrics"]["train"], e["train_loss"], e["train_accuracy"], f"epoch {e['epoch']} train")
    check(e["metrics"]["val"], e["val_loss"], e["val_accuracy"], f"epoch {e['epoch']} val")
t = r["test"]
check(t["metrics"], t["loss"], t["accuracy"], "test")
assert t["accuracy"] > 0.88, t
print("1 passed, 0 failed")
PY
