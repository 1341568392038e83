#!/usr/bin/env bash
# unit.data honours DLC_DATA: test_data runs with the checkout's data directory named absent
# ($DLC_TEST_MNIST_DIR pointing nowhere) and DLC_DATA naming the real one (the caller's
# $DLC_DATA, else REPO_ROOT/data), and must load and check the real MNIST splits from there.
#   data_env.sh TEST_DATA REPO_ROOT
set -eu
test_data=$1 root=$2
data=${DLC_DATA:-$root/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$(DLC_TEST_MNIST_DIR="$tmp/no-data-here" DLC_DATA="$data" "$test_data") || {
  printf '%s\n' "$out"; echo "data_env: test_data failed with DLC_DATA=$data"; exit 1; }
printf '%s\n' "$out" | tail -3
printf '%s\n' "$out" | grep -q "^real MNIST from $data\$" ||
  { echo "data_env: the real-MNIST checks did not read DLC_DATA=$data"; exit 1; }
