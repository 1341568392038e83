#!/usr/bin/env bash
# The GPU paths of --target cuda (`--check-cuda`, `--run`) on a machine without a CUDA driver
# or device fail with exit status 1 and one clear line: "no CUDA driver (libcuda.so.1 not
# found)" or "no CUDA device". On a machine with a GPU they run instead and must succeed.
#   no_device.sh DLC MODEL.dl...   (each model is checked with --check-cuda and trained with --run)
set -u
dlc=$1
shift
failed=0
for model in "$@"; do
  for mode in --check-cuda --run; do
    err=$("$dlc" --target cuda $mode -q "$model" 2>&1 >/dev/null)
    status=$?
    if [ "$status" = 0 ]; then
      echo "ok: $mode $model ran on a CUDA device"
      continue
    fi
    case "$status:$err" in
      "1:"*"dlc: error: no CUDA driver (libcuda.so.1 not found)"*|"1:"*"dlc: error: no CUDA device"*)
        echo "ok: $mode $model: $err" ;;
      *) echo "FAIL: $mode $model: exit status $status (expected 0, or 1 with the no-driver /"
         echo "no-device error):"; echo "$err"; failed=1 ;;
    esac
  done
done
exit $failed
