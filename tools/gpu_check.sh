#!/usr/bin/env bash
# tools/gpu_check.sh — on the GPU machine (after tools/gpu_pack.sh here, gpu/ carried): the one
# command that prepares the machine (the toolkit's lib64 on LD_LIBRARY_PATH for NVRTC and
# cuBLAS, the data and cache directories) and checks the CUDA backend:
#   tools/gpu_check.sh [check|train|bench|all]     (default: all; results in $OUT or /tmp/dlc-gpu)
#   check  --check-cuda on every model, gradient-check file and golden-suite model: each op's
#          CUDA output against the C backend's (1e-4 relative), the whole steps beside it
#   train  mnist_mlp and mnist_cnn trained on the GPU (--target cuda --run), test accuracy
#   bench  samples/s of dlc (--run --target cuda) and PyTorch eager and compiled on the same GPU
#          (bench/gpu_torch.py), one epoch each, MLP and CNN at batch 128
# Writes summary.txt (one line per result), check.txt, train.txt, bench.txt under the output
# folder (a device run brings back at most 8 files).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
what=${1:-all}
out=${OUT:-/tmp/dlc-gpu}
mkdir -p "$out"
dlc=${DLC:-$root/gpu/dlc}
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export DLC_DATA=${DLC_DATA:-$root/gpu/data} DLC_CACHE=${DLC_CACHE:-/tmp/dlc-cache}
summary=$out/summary.txt
{ nvidia-smi -L; "$dlc" --version; } 2>&1 | tee -a "$summary"

models_to_check() {
  ls models/*.dl tests/gradcheck/*.dl
  for m in clip regularize opt_adam_amsgrad opt_adagrad opt_rmsprop opt_sgd_dampening opt_adamw \
           sgd_nesterov pool_concat batchnorm conv_cnn dropout_noise activation_zoo loss_options; do
    echo "tests/golden/ir/$m.dl"
  done
}

if [ "$what" = check ] || [ "$what" = all ]; then
  for f in $(models_to_check); do
    echo "=== $f" >> "$out/check.txt"
    "$dlc" --check-cuda -q "$f" >> "$out/check.txt" 2>&1
    echo "check $? $(tail -1 "$out/check.txt")" | tee -a "$summary"
  done
fi

if [ "$what" = train ] || [ "$what" = all ]; then
  for m in mnist_mlp mnist_cnn; do
    echo "=== $m" >> "$out/train.txt"
    "$dlc" --target cuda --run "models/$m.dl" --report "$out/$m.json" >> "$out/train.txt" 2>&1
    echo "train $? $m $(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('test accuracy', r['test']['accuracy'], 'samples/s', round(r['train']['samples_per_sec']))" "$out/$m.json" 2>&1)" | tee -a "$summary"
  done
fi

if [ "$what" = bench ] || [ "$what" = all ]; then
  for m in mnist_mlp mnist_cnn; do
    "$dlc" --target cuda --run -q "models/$m.dl" -D epochs=1 --report "$out/bench_$m.json" >> "$out/bench.txt" 2>&1
    d=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['train']['samples_per_sec']))" "$out/bench_$m.json")
    e=$(python3 bench/gpu_torch.py --model "$m" --data "$DLC_DATA/mnist" 2>>"$out/bench.txt" | tail -1 | python3 -c "import json,sys; print(round(json.load(sys.stdin)['samples_per_sec']))")
    c=$(python3 bench/gpu_torch.py --model "$m" --data "$DLC_DATA/mnist" --compile 2>>"$out/bench.txt" | tail -1 | python3 -c "import json,sys; print(round(json.load(sys.stdin)['samples_per_sec']))")
    echo "bench $m samples/s: dlc $d, torch eager $e, torch.compile $c" | tee -a "$summary"
  done
  rm -f "$out"/bench_*.json
fi
