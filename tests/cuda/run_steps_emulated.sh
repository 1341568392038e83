#!/usr/bin/env bash
# `--run --target cuda` of a train block with two steps on the emulated device: the small GAN
# of tests/cuda/steps_gan.dl trains as the C backend trains it, each step's loss per epoch and
# for the test split (run_emulated.sh compares them), so each step ran its own function.
#   run_steps_emulated.sh DLC
set -eu
exec "$(dirname "$0")/run_emulated.sh" "$1" "$(dirname "$0")/steps_gan.dl"
