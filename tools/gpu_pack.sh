#!/usr/bin/env bash
# tools/gpu_pack.sh — prepares, on this (CPU) machine, what the GPU machine needs to run dlc:
# the GPU machine has the CUDA toolkit, PyTorch and numpy but no package registry and no
# flex/bison, so dlc is built here with json-c and zlib linked statically (DLC_PORTABLE: the
# binary needs only libc and libm) and copied, with the MNIST IDX files (real files, not the
# links of data/), into gpu/ (ignored by git), the folder a device run carries:
#   tools/gpu_pack.sh [--fashion]      then, on the GPU machine: tools/gpu_check.sh
# --fashion adds Fashion-MNIST (30 MB; the carried folder may hold 64 MB in all).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/gpu/' "$exclude" 2>/dev/null || echo '/gpu/' >> "$exclude"
cmake -S . -B build-portable -DCMAKE_BUILD_TYPE=Release -DDLC_PORTABLE=ON >/dev/null
cmake --build build-portable --target dlc -j"$(nproc)" >/dev/null
rm -rf gpu
mkdir -p gpu/data/mnist
cp build-portable/dlc gpu/dlc
cp -L data/mnist/*.gz gpu/data/mnist/
if [ "${1:-}" = --fashion ]; then
  mkdir -p gpu/data/fashion-mnist
  cp -L data/fashion-mnist/*.gz gpu/data/fashion-mnist/
fi
echo "gpu/: $(du -sh gpu | cut -f1) (dlc needs: $(ldd gpu/dlc | awk '/=>/ {print $1}' | tr '\n' ' '))"
