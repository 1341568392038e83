#!/usr/bin/env bash
# A GAN's samples (issue 15): a short run of a small MLP GAN (batchnorm in the generator, tanh
# output, two alternating steps) on 1024 digits for 2 epochs, with
#   samples = sample(fake, low = -1, high = 1)   and   grid(fake, ..., every = 1)
#   - --samples FILE --samples-count 300 writes an IDX file of u8 images: magic 0x00000803,
#     dims [300, 28, 28], 16 + 300 * 784 bytes; the test split is cut to 256 samples, so the
#     300 wrap around it, and every sample differs from every other (each batch draws noise);
#   - --images DIR gets the grid after each epoch (fake-epoch001.png, fake-epoch002.png) and
#     after the test split (fake.png): PNGs of the documented size; the last epoch's grid and
#     the final one show the same fixed noise batch through the same weights (equal pixels),
#     the first epoch's differs (training moved the generator); the grid's cells are the first
#     samples of the IDX file (the pixel mappings round alike but for ties: within 1);
#   - plain training (one step) writes its grids every N epochs too: every = 2 of 3 epochs
#     writes fake_grid-epoch002.png and fake_grid.png alone;
#   - sampling from the saved weights (dlc gan.dl --weights W --samples F, no training)
#     reproduces the training run's samples file byte for byte, as does a run without
#     --images (the grids' eval steps between epochs change nothing);
#   - errors: --samples without a samples setting; --samples-count 0 and without --samples;
#     --samples without --run or --weights; a path in a missing directory (before training,
#     nothing written); weights of another width (naming the file and the tensor); weights of
#     another model (naming the missing tensor); sample(...) with low >= high, of a value that
#     is not image-shaped, of an unknown name; grid(...) with low >= high.
#   gan_samples.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
cat >"$tmp/gan.dl" <<'DL'
param width = 64
param epochs = 2
block generator(z) {
  h = relu(batchnorm(dense(z, width)))
  h = relu(batchnorm(dense(h, 128)))
  return tanh(dense(h, 784))
}
block discriminator(x) {
  h = leaky_relu(dense(x, 128), 0.2)
  return dense(h, 1)
}
model gan {
  input image: f32[784]
  G = generator()
  D = discriminator()
  fake = G(normal(32))
  d_real = D(image * 2 - 1)
  d_fake = D(stop_gradient(fake))
  g_fake = D(fake)
}
train gan {
  data = mnist(image = image, limit = 1024, test_limit = 256)
  batch = 64
  epochs = epochs
  seed = 3
  samples = sample(fake, low = -1, high = 1)
  images = [grid(fake, count = 16, columns = 4, low = -1, high = 1, every = 1, name = "fake")]
  step discriminator {
    loss = bce_with_logits(d_real, 1) + bce_with_logits(d_fake, 0)
    optimizer = adam(lr = 2e-4, betas = [0.5, 0.999])
    params = [D]
  }
  step generator {
    loss = bce_with_logits(g_fake, 1)
    optimizer = adam(lr = 2e-4, betas = [0.5, 0.999])
    params = [G]
  }
}
DL
"$dlc" --run "$tmp/gan.dl" --save-weights "$tmp/gan.dlw" --samples "$tmp/train.idx" \
  --samples-count 300 --images "$tmp/img" >"$tmp/out"
cat "$tmp/out"
grep -q "^wrote 300 samples (28x28) to $tmp/train.idx$" "$tmp/out"
grep -q "^wrote $tmp/img/fake.png (16 test samples)$" "$tmp/out"
[ "$(ls "$tmp/img" | tr '\n' ' ')" = "fake-epoch001.png fake-epoch002.png fake.png " ] ||
  { echo "FAIL: $tmp/img holds $(ls "$tmp/img")"; exit 1; }
PYTHONPATH="$root/tests/e2e" python3 - "$tmp/train.idx" "$tmp/img" <<'PY'
import struct, sys
from png_check import read_png
data = open(sys.argv[1], "rb").read()
magic, n, h, w = struct.unpack(">IIII", data[:16])
assert (magic, n, h, w) == (0x803, 300, 28, 28), (hex(magic), n, h, w)
assert len(data) == 16 + n * h * w, len(data)
images = [data[16 + k * 784:16 + (k + 1) * 784] for k in range(n)]
assert len(set(images)) == n, "samples repeat: %d distinct of %d" % (len(set(images)), n)
assert all(len(set(im)) > 10 for im in images), "a sample is (nearly) constant"
grids = {}
for name in ("fake-epoch001", "fake-epoch002", "fake"):
    gw, gh, rows = read_png("%s/%s.png" % (sys.argv[2], name))
    assert (gw, gh) == (4 * 28 + 5 * 2, 4 * 28 + 5 * 2), (name, gw, gh)
    grids[name] = rows
assert grids["fake-epoch002"] == grids["fake"], "the last epoch's grid differs from the final one"
assert grids["fake-epoch001"] != grids["fake"], "the first epoch's grid is the final one"
worst = 0
for k in range(16):
    r0, c0 = 2 + (k // 4) * 30, 2 + (k % 4) * 30
    for y in range(28):
        for x in range(28):
            worst = max(worst, abs(grids["fake"][r0 + y][c0 + x] - images[k][y * 28 + x]))
assert worst <= 1, "grid cells and samples differ by %d gray levels" % worst
print("ok: 300 distinct samples, 3 grids, cells = samples within %d" % worst)
PY
# sampling from the saved weights, without training: the same bytes
"$dlc" "$tmp/gan.dl" --weights "$tmp/gan.dlw" --samples "$tmp/saved.idx" --samples-count 300 \
  >"$tmp/out2"
grep -q "^wrote 300 samples (28x28) to $tmp/saved.idx$" "$tmp/out2"
if grep -q "^epoch" "$tmp/out2"; then echo "FAIL: sampling trained"; exit 1; fi
cmp "$tmp/train.idx" "$tmp/saved.idx"
# the per-epoch grids (eval steps between epochs) leave the training as it was
"$dlc" --run -q "$tmp/gan.dl" --samples "$tmp/no_images.idx" --samples-count 300
cmp "$tmp/train.idx" "$tmp/no_images.idx"
# the default count is 1000
"$dlc" "$tmp/gan.dl" -q --weights "$tmp/gan.dlw" --samples "$tmp/thousand.idx"
[ "$(stat -c %s "$tmp/thousand.idx")" = $((16 + 1000 * 784)) ]
cmp -n $((300 * 784)) <(tail -c +17 "$tmp/train.idx") <(tail -c +17 "$tmp/thousand.idx")

fails() { # expected message, then the command; it must fail with the message on stderr
  local want=$1
  shift
  if "$@" >"$tmp/o" 2>"$tmp/e"; then echo "FAIL: succeeded: $*"; exit 1; fi
  grep -qF -- "$want" "$tmp/e" || { echo "FAIL: '$want' not in:"; cat "$tmp/e"; exit 1; }
}
grep -v "samples = sample" "$tmp/gan.dl" >"$tmp/plain.dl"
fails "--samples needs \`samples = sample(VALUE, low = L, high = H)\` in the train block" \
  "$dlc" --run "$tmp/plain.dl" --samples "$tmp/x.idx"
fails "--samples-count expects a positive integer, got '0'" \
  "$dlc" --run "$tmp/gan.dl" --samples "$tmp/x.idx" --samples-count 0
fails "--samples-count must be in [1, 100000], got 100001" \
  "$dlc" --run "$tmp/gan.dl" --samples "$tmp/x.idx" --samples-count 100001
fails "--samples-count needs --samples" "$dlc" --run "$tmp/gan.dl" --samples-count 5
fails "--samples needs --run (samples of the trained model) or --weights FILE" \
  "$dlc" "$tmp/gan.dl" --samples "$tmp/x.idx"
fails "$tmp/none/x.idx: cannot write samples there: $tmp/none/: No such file or directory" \
  "$dlc" --run "$tmp/gan.dl" --samples "$tmp/none/x.idx"
if grep -q "^epoch" "$tmp/o"; then echo "FAIL: trained before refusing the path"; exit 1; fi
fails "$tmp/img: cannot write samples there: it is a directory" \
  "$dlc" --run "$tmp/gan.dl" --samples "$tmp/img"
fails "$tmp/gan.dlw: tensor 'G.dense1.w' does not match model 'gan' (dtype or shape)" \
  "$dlc" "$tmp/gan.dl" -D width=32 --weights "$tmp/gan.dlw" --samples "$tmp/x.idx"
[ ! -e "$tmp/x.idx" ] || { echo "FAIL: a samples file was left behind"; exit 1; }
cat >"$tmp/other.dl" <<'DL'
model other {
  input image: f32[784]
  fake = tanh(dense(image, 784))
}
train other {
  data = mnist(image = image, limit = 64, test_limit = 64)
  loss = mse(fake, image)
  epochs = 3
  samples = sample(fake)
  images = [grid(fake, image, count = 4, every = 2)]
}
DL
"$dlc" --run -q "$tmp/other.dl" --save-weights "$tmp/other.dlw" --images "$tmp/plain"
[ "$(ls "$tmp/plain" | tr '\n' ' ')" = "fake_grid-epoch002.png fake_grid.png " ] ||
  { echo "FAIL: $tmp/plain holds $(ls "$tmp/plain")"; exit 1; }
fails "$tmp/other.dlw: holds no tensor 'G." \
  "$dlc" "$tmp/gan.dl" --weights "$tmp/other.dlw" --samples "$tmp/x.idx"
sed 's/samples = sample(fake, low = -1, high = 1)/samples = sample(fake, low = 1, high = 1)/' \
  "$tmp/gan.dl" >"$tmp/bad1.dl"
fails "sample: low must be below high (the values written as 0 and 255), got low = 1, high = 1" \
  "$dlc" --run "$tmp/bad1.dl"
sed 's/samples = sample(fake, low = -1, high = 1)/samples = sample(d_real)/' "$tmp/gan.dl" >"$tmp/bad2.dl"
fails "sample: [B,1] is not image-shaped: samples are f32 values of [B,H,W]" "$dlc" --run "$tmp/bad2.dl"
sed 's/samples = sample(fake, low = -1, high = 1)/samples = sample(fakes)/' "$tmp/gan.dl" >"$tmp/bad3.dl"
fails "unknown name 'fakes'" "$dlc" --run "$tmp/bad3.dl"
sed 's/low = -1, high = 1, every/low = 2, high = 1, every/' "$tmp/gan.dl" >"$tmp/bad4.dl"
fails "grid: low must be below high (the values shown black and white), got low = 2, high = 1" \
  "$dlc" --run "$tmp/bad4.dl"
echo "ok: gan samples"
