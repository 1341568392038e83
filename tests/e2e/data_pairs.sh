#!/usr/bin/env bash
# End to end (issue 13 data): a two-input model trained on pairs(mnist(classes = [...])) for a
# few steps with existing ops (d = dense(x1, 16) - dense(x2, 16), bce_with_logits on
# dense(d * d, 1)): the run succeeds with finite losses; the same seed gives an identical
# report (the pairs are reproducible), another seed a different one; a triplets run trains too.
#   data_pairs.sh DLC
set -eu
dlc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
cat >"$tmp/pairs.dl" <<'DL'
param seed = 3
model siam {
  input x1: f32[784]
  input x2: f32[784]
  input same: f32[1]
  d = dense(x1, 16) - dense(x2, 16)
  logit = dense(d * d, 1)
}
train siam {
  data = pairs(mnist(classes = [0, 1, 2, 3, 4], limit = 3000, test_limit = 500), x1 = first,
               x2 = second, same = same, same_share = 0.5, per_epoch = 640)
  loss = bce_with_logits(logit, same)
  optimizer = adam(lr = 0.003)
  batch = 64
  epochs = 3
  seed = seed
  validation = 0.1
  metrics = [loss, mse]
}
DL
cat >"$tmp/trip.dl" <<'DL'
model t {
  input a: f32[784]
  input p: f32[784]
  input n: f32[784]
  ea = dense(a, 8, name = "enc_a")
  dp = ea - dense(p, 8, name = "enc_p")
  dn = ea - dense(n, 8, name = "enc_n")
  loss = relu(sum(dp * dp) - sum(dn * dn) + 1)
}
train t {
  data = triplets(mnist(limit = 1000, test_limit = 200), a = anchor, p = positive, n = negative)
  loss = loss
  batch = 50
  epochs = 1
}
DL
# the report without its timings
losses() { grep -E '"(train_loss|val_loss|test_loss|loss|mse)"' "$1"; }
"$dlc" --run "$tmp/pairs.dl" -q --report "$tmp/a.json"
"$dlc" --run "$tmp/pairs.dl" -q --report "$tmp/b.json"
"$dlc" --run "$tmp/pairs.dl" -q -D seed=4 --report "$tmp/c.json"
grep -q '"train": 640' "$tmp/a.json" || { echo "FAIL: 640 training pairs per epoch expected"; exit 1; }
if losses "$tmp/a.json" | grep -qiE 'nan|inf|null'; then echo "FAIL: a loss is not finite"; exit 1; fi
[ "$(losses "$tmp/a.json")" = "$(losses "$tmp/b.json")" ] || { echo "FAIL: same seed, different report"; exit 1; }
[ "$(losses "$tmp/a.json")" != "$(losses "$tmp/c.json")" ] || { echo "FAIL: another seed, the same report"; exit 1; }
first=$(grep -m1 '"train_loss"' "$tmp/a.json" | tr -dc '0-9.e-')
last=$(grep '"train_loss"' "$tmp/a.json" | tail -1 | tr -dc '0-9.e-')
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' || { echo "FAIL: the loss did not fall ($first -> $last)"; exit 1; }
"$dlc" --run "$tmp/trip.dl" -q --report "$tmp/t.json"
grep -A1 '"test": {' "$tmp/t.json" | grep -q '"loss"' || { echo "FAIL: the triplets run wrote no test loss"; exit 1; }
echo "data_pairs: ok (train loss $first -> $last)"
