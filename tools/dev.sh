#!/usr/bin/env bash
# dev.sh — the two everyday entry points; each first runs tools/setup.sh (fast when nothing to do).
#   tools/dev.sh train [ARGS...]   build, then train models/mnist_mlp.dl (ARGS go to dlc)
#   tools/dev.sh test [ARGS...]    build, run the architecture gate (tools/arch_gate.py: file
#                                  and function sizes, layer includes), then the whole test
#                                  suite (ARGS go to ctest): the Release build's suite, then
#                                  (without ARGS) its numeric tests under every other OpenBLAS
#                                  kernel family this CPU runs and the built-in GEMM
#                                  (tools/numeric_kernels.sh), then the compiler's and runtime's
#                                  tests again under AddressSanitizer + UBSan (build-asan/,
#                                  clang), including a 30 s run of the frontend fuzzer
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# setup.sh writes data to $DLC_DATA_OUT when set; let dlc and the tests read it from there.
if [ -n "${DLC_DATA_OUT:-}" ] && [ -z "${DLC_DATA:-}" ]; then export DLC_DATA=$DLC_DATA_OUT; fi
JOBS=$(nproc)

sanitizer_suite() {
  echo "dev: sanitizer build (ASan + UBSan) in build-asan/"
  cmake -S "$REPO" -B "$REPO/build-asan" -DCMAKE_BUILD_TYPE=Debug -DDLC_SANITIZE=ON \
        -DCMAKE_C_COMPILER=clang -DDLC_FUZZ=ON >/dev/null
  cmake --build "$REPO/build-asan" -j"$JOBS" >/dev/null
  # the long end-to-end training runs (MNIST and Fashion-MNIST over whole epochs) are the
  # Release suite's job; everything else runs sanitized
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$REPO/build-asan" --output-on-failure -j"$JOBS" \
          -E 'e2e\.(mnist|fashion|fold_fashion)' "$@"
}

case "${1:-}" in
  train) shift; "$REPO/tools/setup.sh"
         exec "$REPO/build/dlc" --run "$REPO/models/mnist_mlp.dl" "$@" ;;
  test)  shift; "$REPO/tools/setup.sh"
         python3 "$REPO/tools/arch_gate.py" "$REPO"
         ctest --test-dir "$REPO/build" --output-on-failure -j"$JOBS" "$@"
         if [ $# -eq 0 ]; then "$REPO/tools/numeric_kernels.sh" "$REPO/build"; fi
         sanitizer_suite "$@" ;;
  *)     sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
