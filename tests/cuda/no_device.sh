#!/usr/bin/env bash
# `dlc --check-cuda` (the GPU path of --target cuda) on a machine without a CUDA driver or
# device fails with exit status 1 and one clear line: "no CUDA driver (libcuda.so.1 not found)"
# or "no CUDA device". On a machine with a GPU the check runs instead and must pass.
#   no_device.sh DLC MODEL.dl
set -u
dlc=$1 model=$2
err=$("$dlc" --check-cuda -q "$model" 2>&1 >/dev/null)
status=$?
if [ "$status" = 0 ]; then
  echo "a CUDA device is present: --check-cuda ran and passed"
  exit 0
fi
if [ "$status" != 1 ]; then
  echo "FAIL: exit status $status (expected 1)"; echo "$err"; exit 1
fi
case "$err" in
  *"dlc: error: no CUDA driver (libcuda.so.1 not found)"*|*"dlc: error: no CUDA device"*)
    echo "ok: $err"; exit 0 ;;
esac
echo "FAIL: exit 1 but not the no-driver / no-device error:"; echo "$err"
exit 1
