#!/usr/bin/env bash
# numeric_kernels.sh — the numeric tests again under every other GEMM kernel family this CPU can
# run, so a tolerance that only held for the kernels of the machine it was written on fails
# here rather than on the next CI machine. OpenBLAS picks its kernels per CPU at run time
# (DYNAMIC_ARCH); OPENBLAS_CORETYPE forces a family. Each family below runs when
# /proc/cpuinfo has the instructions its kernels use (a family the CPU lacks would die of
# SIGILL); that OpenBLAS really took it is checked with openblas_get_corename(). Then once more
# with the generated C's built-in GEMM (DLC_PORTABLE_GEMM=1: --run, --gradcheck and the test
# tools build models without -DDLC_USE_CBLAS; docs/cli.md).
#
# Families (x86-64 kernels of OpenBLAS 0.3.21): Prescott (SSE3), Core2 (SSSE3), Nehalem
# (SSE4.2), Sandybridge (AVX), Haswell (AVX2 + FMA), Zen (AVX2 + FMA, its own blocking),
# SkylakeX (AVX-512 F/BW/DQ/VL), Cooperlake (SkylakeX + AVX-512 BF16). Bulldozer-era families
# need FMA4 (absent from Zen 2 and later, and from Intel), so they are left out.
#
# Tests per family: the numeric ones that take seconds with a warm model cache — reference.*
# (PyTorch agreement), gradcheck.* (f64 finite differences), unit.ops, memplan.random (training
# with the memory plan equals --no-reuse bit for bit), cuda_emulated.* but the CNN and MNIST
# models' (whole-model C against emulated CUDA: those take ~2 min and stay in the main suite),
# e2e.fold_small (folded vs unfolded inference C against derived error bounds) — and ONE short
# MNIST end to end, alternating between e2e.inference_mnist and e2e.mnist_batchnorm (inference
# C against eval_step and the exact outputs, with derived error bounds; ~30 s each), so every
# family trains once and both checks meet several families.
#   tools/numeric_kernels.sh [BUILD_DIR]      (default: <repo>/build, already built)
# Exit status 0 when every family passes; prints one line per family and a summary.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$REPO/build}
JOBS=${NUMERIC_KERNELS_JOBS:-$(nproc)}
NUMERIC='^(reference\.|gradcheck\.|unit\.ops$|memplan\.|cuda_emulated\.|e2e\.fold_small$)'
SLOW='^cuda_emulated\.(mnist_|fashion_)'
E2E=(e2e.inference_mnist e2e.mnist_batchnorm)

[ -x "$BUILD/dlc" ] || { echo "numeric_kernels: $BUILD/dlc not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { local f; for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }

# the families this CPU can execute, each with the flags its kernels need
families=()
add() { local name=$1; shift; if has "$@"; then families+=("$name"); else echo "numeric_kernels: $name skipped (no $* in /proc/cpuinfo)"; fi; }
add Prescott pni
add Core2 ssse3
add Nehalem sse4_2
add Sandybridge avx
add Haswell avx2 fma
add Zen avx2 fma
add SkylakeX avx512f avx512bw avx512dq avx512vl
add Cooperlake avx512f avx512bw avx512dq avx512vl avx512_bf16

cblas_inc=$(sed -n 's/^CBLAS_INCLUDE_DIR:PATH=//p' "$BUILD/CMakeCache.txt")
blas=$(sed -n 's/^OPENBLAS_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt")
cat >"$tmp/core.c" <<'C'
#include <stdio.h>
char *openblas_get_corename(void);
int main(void) { puts(openblas_get_corename()); return 0; }
C
cc -I"$cblas_inc" "$tmp/core.c" -o "$tmp/core" "$blas"
echo "numeric_kernels: OpenBLAS picks $("$tmp/core") on this CPU"

failed=() passed=() i=0
run_family() { # NAME E2E_TEST [VAR=VALUE...]: the numeric tests and one e2e in that setting
  local name=$1 e2e=$2 log="$tmp/$1.log" t0=$SECONDS
  shift 2
  if env "$@" ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" \
        -R "$NUMERIC|^${e2e//./\\.}\$" -E "$SLOW" >"$log" 2>&1; then
    passed+=("$name")
    echo "numeric_kernels: $name ok ($(grep -o 'tests passed.*' "$log" | head -1 |
          sed 's/tests passed, 0 tests failed out of/tests:/'); $e2e; $((SECONDS - t0)) s)"
  else
    failed+=("$name")
    echo "numeric_kernels: $name FAILED ($e2e; $((SECONDS - t0)) s):"
    grep -E 'Failed|\*\*\*|FAIL|beyond|differ' "$log" | head -40
  fi
  # the inference checks' figures: observed differences against the derived bounds
  grep -E -A2 '^[0-9]+ samples: ' "$BUILD/Testing/Temporary/LastTest.log" 2>/dev/null |
    grep -E '^([0-9]+ samples: |  )' | sed 's/^/    /' || true
}

for fam in "${families[@]}"; do
  got=$(OPENBLAS_CORETYPE=$fam "$tmp/core")
  if [ "${got,,}" != "${fam,,}" ]; then
    echo "numeric_kernels: OPENBLAS_CORETYPE=$fam gave $got"; failed+=("$fam (not taken)"); continue
  fi
  run_family "$fam" "${E2E[$((i % 2))]}" OPENBLAS_CORETYPE="$fam"
  i=$((i + 1))
done
run_family portable-gemm "${E2E[$((i % 2))]}" DLC_PORTABLE_GEMM=1

# ... and the portable family really ran without OpenBLAS: a model built under
# DLC_PORTABLE_GEMM=1 does not link it, one built without does
linked() { # VAR=VALUE: does the model --run builds in that setting link OpenBLAS?
  rm -rf "$tmp/cache"
  env "$@" DLC_CACHE="$tmp/cache" "$BUILD/dlc" -q --run "$REPO/models/sine_regression.dl" \
      -D epochs=1 >/dev/null
  for so in "$tmp"/cache/*.so; do readelf -d "$so" | grep -q 'NEEDED.*openblas' && return 0; done
  return 1
}
if linked DLC_PORTABLE_GEMM=1 || ! linked DLC_PORTABLE_GEMM=0; then
  echo "numeric_kernels: DLC_PORTABLE_GEMM=1 did not select the built-in GEMM"; failed+=("portable-gemm (not taken)")
fi

echo "numeric_kernels: ${#passed[@]} passed (${passed[*]}), ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
