#!/usr/bin/env bash
# End to end (issue 14): models/autoencoder.dl for a third of an epoch at lr 0.003 (20000 training
# images, 2000 test images):
#   - the test reconstruction error, a metric computed on a model value and an input
#     (mse(reconstruction, image)), is in the report as test.reconstruction_mse and in the
#     metrics, and falls clearly below the trivial baseline: predicting the mean image (here
#     the test images' own mean, a baseline at least as good as the training mean): < 0.6 x;
#   - --images DIR writes DIR/reconstructions.png: a valid PNG (decoded by png_check.py with
#     only zlib and struct) of the documented size, its digit tiles exactly the test images'
#     bytes, the reconstructions close to them, the gaps gray; no temporary is left;
#   - errors: --images naming a file (not a directory) fails before training, nothing written;
#     --images without --run.
#   autoencoder.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
sed 's/data = mnist(image = image)/data = mnist(image = image, limit = 20000, test_limit = 2000)/' \
  "$root/models/autoencoder.dl" >"$tmp/ae.dl"
grep -q 'limit = 20000' "$tmp/ae.dl"
"$dlc" --run "$tmp/ae.dl" -D epochs=1 -D lr=0.003 --report "$tmp/report.json" --images "$tmp/img" >"$tmp/out"
cat "$tmp/out"
grep -q "^test .* reconstruction_mse " "$tmp/out"
grep -q "^wrote $tmp/img/reconstructions.png (32 test samples)" "$tmp/out"
ls -A "$tmp/img" >"$tmp/listing"
[ "$(cat "$tmp/listing")" = "reconstructions.png" ] || { echo "FAIL: $tmp/img holds $(cat "$tmp/listing")"; exit 1; }
PYTHONPATH="$root/tests/e2e" python3 - "$tmp/report.json" "$tmp/img/reconstructions.png" \
  "$root/data/mnist/t10k-images-idx3-ubyte.gz" <<'PY'
import gzip, json, sys
from png_check import read_png
r = json.load(open(sys.argv[1]))
t = r["test"]
mse = t["reconstruction_mse"]
assert t["metrics"]["reconstruction_mse"] == mse and abs(t["loss"] - mse) < 1e-6, t
assert r["epochs"][0]["metrics"]["val"]["reconstruction_mse"] > 0, r["epochs"][0]
raw = gzip.open(sys.argv[3]).read()[16:]
n, px = 2000, 784
imgs = [raw[i * px:(i + 1) * px] for i in range(n)]
mean = [sum(im[j] for im in imgs) / (255.0 * n) for j in range(px)]
base = sum((im[j] / 255.0 - mean[j]) ** 2 for im in imgs for j in range(px)) / (n * px)
print(f"test reconstruction_mse {mse:.4f}, mean-image baseline {base:.4f} (need < 0.6 x)")
assert mse < 0.6 * base, (mse, base)
# the grid: 32 samples, 8 per row, each the digit then its reconstruction, 2-pixel gray gaps
w, h, rows = read_png(sys.argv[2])
assert (w, h) == (8 * 2 * 28 + 9 * 2, 4 * 28 + 5 * 2), (w, h)
assert all(rows[0][x] == 128 for x in range(w)) and all(rows[y][0] == 128 for y in range(h))
err = 0.0
for s in range(32):
    x0, y0 = 2 + (s % 8) * (2 * 28 + 2), 2 + (s // 8) * (28 + 2)
    for y in range(28):
        digit = rows[y0 + y][x0:x0 + 28]
        assert digit == imgs[s][y * 28:(y + 1) * 28], f"sample {s} row {y}: the digit's pixels differ"
        recon = rows[y0 + y][x0 + 28:x0 + 56]
        err += sum((a - b) ** 2 for a, b in zip(recon, digit)) / 255.0 ** 2
err /= 32 * px
print(f"grid {w}x{h}: digits exact; reconstructions' mse against them {err:.4f}")
assert err < 0.6 * base, err
print("1 passed, 0 failed")
PY
# --images naming a regular file: an error before training, nothing written
touch "$tmp/afile"
if "$dlc" --run "$tmp/ae.dl" -D epochs=1 --images "$tmp/afile" >"$tmp/out2" 2>"$tmp/err2"; then
  echo "FAIL: --images on a file succeeded"; exit 1
fi
grep -q "afile: cannot write images there: not a directory" "$tmp/err2"
! grep -q "^epoch" "$tmp/out2"
[ ! -s "$tmp/afile" ]
if "$dlc" "$tmp/ae.dl" --images "$tmp/img" 2>"$tmp/err3"; then echo "FAIL: --images without --run"; exit 1; fi
grep -q -- "--images needs --run" "$tmp/err3"
echo "errors: 2 passed"
