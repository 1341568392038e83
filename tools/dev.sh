#!/usr/bin/env bash
# dev.sh — the two everyday entry points; each first runs tools/setup.sh (fast when nothing to do).
#   tools/dev.sh train [ARGS...]   build, then train models/mnist_mlp.dl (ARGS go to dlc)
#   tools/dev.sh test [ARGS...]    build, then run the test suite (ARGS go to ctest); exits as ctest
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# setup.sh writes data to $DLC_DATA_OUT when set; let dlc and the tests read it from there.
if [ -n "${DLC_DATA_OUT:-}" ] && [ -z "${DLC_DATA:-}" ]; then export DLC_DATA=$DLC_DATA_OUT; fi

case "${1:-}" in
  train) shift; "$REPO/tools/setup.sh"
         exec "$REPO/build/dlc" --run "$REPO/models/mnist_mlp.dl" "$@" ;;
  test)  shift; "$REPO/tools/setup.sh"
         exec ctest --test-dir "$REPO/build" --output-on-failure -j2 "$@" ;;
  *)     sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
