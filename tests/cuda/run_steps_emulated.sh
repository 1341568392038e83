#!/usr/bin/env bash
# `--run --target cuda` of a train block with two steps on the emulated device: a small GAN of
# models/gan_mnist.dl (1,024 MNIST digits, 2 epochs, narrow layers) trains as the C backend
# trains it, each step's loss per epoch and for the test split (run_emulated.sh compares them).
#   run_steps_emulated.sh DLC REPO_ROOT
set -eu
dlc=$1 root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e 's/^param epochs = 30/param epochs = 2/' \
    -e 's/data = mnist(image = image)/data = mnist(image = image, limit = 1024, test_limit = 256)/' \
    -e 's/dense(z, 256)/dense(z, 32)/; s/dense(h, 512)))/dense(h, 32)))/; s/dense(h, 1024)/dense(h, 64)/' \
    -e 's/dense(x, 512)/dense(x, 32)/; s/dense(h, 256), 0.2)/dense(h, 16), 0.2)/' \
    -e 's/^param noise = 100/param noise = 16/' "$root/models/gan_mnist.dl" >"$tmp/gan.dl"
grep -q "limit = 1024" "$tmp/gan.dl" && grep -q "dense(z, 32)" "$tmp/gan.dl" ||
  { echo "FAIL: models/gan_mnist.dl changed: the small GAN is not small"; exit 1; }
"$(dirname "$0")/run_emulated.sh" "$dlc" "$tmp/gan.dl"
