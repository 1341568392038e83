#!/usr/bin/env bash
# End to end (issue 14 normalization): normalize = standardize(per_feature = 1) and
# minmax(per_feature = 1) on a CSV whose four features have very different scales (one of them
# constant) and whose test file has a very different range:
#   - the saved normalize:x is f64[2, 4] and equals the training rows' per-feature mean and
#     population standard deviation (min and max - min), computed here independently with
#     python3's standard library from the f32 values; the constant feature gets scale 1;
#   - minmax maps every training feature onto [0, 1] exactly (min 0, max 1), the test rows not:
#     no statistic comes from the test file;
#   - the scalar standardize still saves f64[2] = the mean and deviation of every value, which
#     differs from the per-feature statistics;
#   - the inference C (dlc --weights) carries the statistics per feature and reproduces the
#     run's eval_step on the test file (check_inference.c);
#   - a weights file whose per-feature statistics have the wrong size is refused, naming it.
#   normalize_features.sh DLC CHECK_INFERENCE
set -u
dlc=$(realpath "$1") check=$(realpath "$2")
. "$(dirname "$0")/tally.sh"
cd "$tmp"

# features a ~ [0, 1), b ~ 1000 + [0, 500), c ~ 1e-3 [0, 1), k = 5; the label mixes a and b.
# The test rows lie far outside the training ranges.
python3 - <<'PY'
import random
r = random.Random(7)
def rows(n, lo, hi):
    out = []
    for _ in range(n):
        a = r.uniform(lo, hi); b = 1000 + 500 * r.uniform(lo, hi); c = 1e-3 * r.uniform(lo, hi)
        y = int((a - 0.5) + (b - 1250) / 250 > 0)
        out.append("%.6g,%.6g,%.6g,5,%d" % (a, b, c, y))
    return out
open("train.csv", "w").write("a,b,c,k,y\n" + "\n".join(rows(240, 0, 1)) + "\n")
open("test.csv", "w").write("a,b,c,k,y\n" + "\n".join(rows(60, -3, 4)) + "\n")
PY
model() { # model(NORMALIZE)
  cat <<DL
model m {
  input x: f32[4]
  input label: i32[]
  logits = dense(relu(dense(x, 8)), 2)
}
train m {
  data = csv("train.csv", test_file = "test.csv", x = ["a", "b", "c", "k"], label = "y",
             normalize = $1)
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 0.02)
  batch = 16
  epochs = 4
  metrics = [accuracy]
}
DL
}
model 'standardize(per_feature = 1)' >std.dl
model 'minmax(per_feature = 1)' >mm.dl
model 'standardize' >scalar.dl
for m in std mm scalar; do
  "$dlc" --run -q $m.dl --save-weights $m.dlw --report $m.json >$m.out 2>&1 || bad "$m.dl did not train: $(cat $m.out)"
done

# the weights files' normalize:x against the statistics of train.csv (never test.csv)
cat >stats.py <<'PY'
import math, struct, sys
def tensors(path):
    b = open(path, "rb").read()
    assert b[:4] == b"DLCW"
    count = struct.unpack_from("<I", b, 8)[0]; at = 12; table = []
    for _ in range(count):
        n = struct.unpack_from("<I", b, at)[0]; name = b[at + 4:at + 4 + n].decode(); at += 4 + n
        dtype, rank = struct.unpack_from("<II", b, at); at += 8
        dims = struct.unpack_from("<%dQ" % rank, b, at); at += 8 * rank
        table.append((name, dtype, dims))
    out = {}
    for name, dtype, dims in table:
        numel = math.prod(dims); size = 8 if dtype == 2 else 4
        fmt = "<%d%s" % (numel, "d" if dtype == 2 else "f" if dtype == 0 else "i")
        out[name] = (dims, struct.unpack_from(fmt, b, at)); at += numel * size
    return out
def f32(v): return struct.unpack("<f", struct.pack("<f", float(v)))[0]
def columns(path):
    lines = open(path).read().split("\n")[1:]
    rows = [[f32(v) for v in l.split(",")[:4]] for l in lines if l]
    return list(zip(*rows))
kind, path = sys.argv[1], sys.argv[2]
dims, v = tensors(path)["normalize:x"]
train, test = columns("train.csv"), columns("test.csv")
def close(a, b): return abs(a - b) <= 1e-12 * max(1.0, abs(b))
if kind == "scalar":
    every = [x for col in train for x in col]
    mean = math.fsum(every) / len(every)
    sd = math.sqrt(math.fsum(x * x for x in every) / len(every) - mean * mean)
    assert dims == (2,), dims
    assert abs(v[0] - mean) <= 1e-9 * abs(mean) and abs(v[1] - sd) <= 1e-9 * sd, (v, mean, sd)
    sys.exit(0)
assert dims == (2, 4), dims
for f, col in enumerate(train):
    if kind == "std":
        mean = math.fsum(col) / len(col)
        sd = math.sqrt(math.fsum((x - mean) ** 2 for x in col) / len(col))
        want = (mean, sd if sd > 0 else 1.0)
    else:
        want = (min(col), max(col) - min(col) if max(col) > min(col) else 1.0)
    got = (v[f], v[4 + f])
    assert close(got[0], want[0]) and close(got[1], want[1]), (f, got, want)
    if kind == "mm":  # the training part onto [0, 1]; the test file outside it
        t = [f32((x - got[0]) / got[1]) for x in col]
        assert min(t) >= 0 and max(t) <= 1, (f, min(t), max(t))
        assert f == 3 or (min(t) == 0 and max(t) == 1), (f, min(t), max(t))
        u = [f32((x - got[0]) / got[1]) for x in test[f]]
        assert f == 3 or min(u) < 0 or max(u) > 1, (f, min(u), max(u))
assert v[3] == 5.0, v  # the constant feature: shift 5
assert v[7] == 1.0, v  # ... and scale 1
print(kind, "per feature:", ["%.6g/%.6g" % (v[f], v[4 + f]) for f in range(4)])
PY
python3 stats.py std std.dlw && ok || bad "standardize(per_feature = 1): wrong statistics"
python3 stats.py mm mm.dlw && ok || bad "minmax(per_feature = 1): wrong statistics"
python3 stats.py scalar scalar.dlw && ok || bad "scalar standardize: wrong statistics"
grep -q '^normalized inputs: per feature (4 features), from 240 training samples$' <("$dlc" --run std.dl 2>&1) &&
  ok || bad "per-feature progress line"
cmp -s std.dlw scalar.dlw && bad "per-feature and scalar weights files are the same" || ok

# the inference C: per-feature statistics inside, eval_step reproduced on the test file
for m in std mm; do
  "$dlc" $m.dl --weights $m.dlw -o $m.c || bad "$m: dlc --weights failed"
  grep -q '^static const double nrm[0-9]*\[8\] = {' $m.c && ok || bad "$m: no per-feature statistics in the C"
  cc -std=c99 -Wall -Wextra -Werror -O2 -fPIC -shared $m.c -o $m.so -lm || bad "$m: the C does not compile"
  acc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test"]["accuracy"])' $m.json)
  "$check" $m.dl $m.dlw "$tmp/$m.so" "$acc" >$m.check 2>&1 && ok || bad "$m: check_inference: $(cat $m.check)"
done
"$dlc" scalar.dl --weights scalar.dlw -o scalar.c && ! grep -q 'nrm[0-9]' scalar.c && ok ||
  bad "scalar: the inference C has per-feature statistics"

# per-feature statistics of another size: refused, naming the file and the tensor
sed -e 's/f32\[4\]/f32[3]/' -e 's/"c", "k"/"c"/' std.dl >three.dl
"$dlc" --run -q three.dl --save-weights three.dlw >/dev/null 2>&1 || bad "three.dl did not train"
out=$("$dlc" three.dl --weights std.dlw -o /dev/null 2>&1)
echo "$out" | grep -q "std.dlw: tensor 'normalize:x' has shape f64\[2,4\]; the model needs f64\[2,3\]" && ok ||
  bad "wrong-size statistics: $out"

tally_end normalize_features
