#!/usr/bin/env bash
# End to end (issue 15): models/rbm_mnist.dl, its CD-1 phase, for 300 steps (3 epochs of 10,000
# training images, batch 100; 2,000 test images):
#   - the reconstruction error (reconstruction_mse, the training batches' mean((v1 - v0)^2))
#     falls from each epoch to the next;
#   - test.reconstruction_mse is in the report and lies clearly below the trivial baseline of
#     predicting each binarized pixel's mean over the test images, mean p (1 - p): < 0.6 x
#     (an untrained RBM, W about 0 and b = 0, reconstructs 0.5 everywhere: 0.25);
#   - the second phase, softmax regression on the frozen hidden probabilities for one epoch,
#     gives test.accuracy (the last phase's) well above chance; test.phases lists both;
#   - the same seed gives the same run (the bernoulli draws and the initial W come from it).
#   rbm_mnist.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
sed 's/data = mnist(image = image, label = label)/data = mnist(image = image, label = label, limit = 10000, test_limit = 2000)/' \
  "$root/models/rbm_mnist.dl" >"$tmp/rbm.dl"
grep -q 'limit = 10000' "$tmp/rbm.dl"
"$dlc" --run "$tmp/rbm.dl" -D epochs=3 -D classify_epochs=1 --report "$tmp/report.json" >"$tmp/out"
cat "$tmp/out"
grep -q "^test .* reconstruction_mse " "$tmp/out"
python3 - "$tmp/report.json" "$root/data/mnist/t10k-images-idx3-ubyte.gz" <<'PY'
import gzip, json, sys
r = json.load(open(sys.argv[1]))
per_epoch = [e["metrics"]["train"]["reconstruction_mse"] for e in r["epochs"] if e["phase"] == "rbm"]
print("reconstruction_mse per epoch:", " ".join(f"{m:.4f}" for m in per_epoch))
assert len(per_epoch) == 3 and all(a > b for a, b in zip(per_epoch, per_epoch[1:])), per_epoch
raw = gzip.open(sys.argv[2]).read()[16:]
n, px = 2000, 784
ones = [0] * px
for i in range(n):
    for j, byte in enumerate(raw[i * px:(i + 1) * px]):
        ones[j] += byte / 255.0 > 0.5   # the model's greater(image, 0.5)
base = sum(k / n * (1 - k / n) for k in ones) / px
mse = r["test"]["reconstruction_mse"]
assert r["test"]["metrics"]["reconstruction_mse"] == mse, r["test"]
print(f"test reconstruction_mse {mse:.4f}, mean-pixel baseline {base:.4f} (need < 0.6 x)")
assert mse < 0.6 * base, (mse, base)
phases = [p["phase"] for p in r["test"]["phases"]]
acc = r["test"]["accuracy"]
print(f"phases {phases}; the classifier on the frozen features: test accuracy {acc:.4f} after one epoch (chance 0.1; need > 0.5)")
assert phases == ["rbm", "classify"] and r["test"]["phases"][1]["metrics"]["accuracy"] == acc and acc > 0.5
PY
"$dlc" --run "$tmp/rbm.dl" -D epochs=1 -D classify_epochs=1 -q --report "$tmp/again.json" >/dev/null
python3 - "$tmp/report.json" "$tmp/again.json" <<'PY'
import json, sys
first, again = (json.load(open(p))["epochs"][0]["metrics"]["train"]["reconstruction_mse"] for p in sys.argv[1:])
assert first == again, (first, again)
print(f"same seed, same first epoch: {first:.6f} twice")
print("5 passed, 0 failed")
PY
