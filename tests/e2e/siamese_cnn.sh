#!/usr/bin/env bash
# End to end (issue 13): models/siamese_mnist.dl, the shared CNN encoder trained with the
# contrastive loss on pairs of digits 0-4, for a short run of 50 steps (one epoch of 6,400
# pairs), then its embeddings exported:
#   - 5-way 1-shot on the unseen digits 5-9 reaches >= 40% (chance: 20%; this run reaches
#     about 51%, the model's 1,500 steps about 57%), 1-shot on the seen digits 0-4 >= 90%;
#   - the weights file records the training normalisation of both image inputs;
#   - `dlc --weights FILE --value e1` writes the encoder alone as inference C (one input, 64
#     outputs) that compiles with -std=c99 -Wall -Wextra -Werror; the embeddings it computes for
#     the raw test images give the run's own few-shot accuracy over the run's own episodes
#     (check_embedding.c), so they are the embeddings the run evaluated;
#   - `--value` naming no value, or an instance, is an error; without it the siamese model's
#     output (the distance, reading both inputs) is refused with a pointer to --value.
#   siamese_cnn.sh DLC CHECK_EMBEDDING REPO_ROOT CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY
set -eu
dlc=$1 check=$2 root=$3 inc=$4 blas=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DLC_CACHE="$tmp/cache"
model="$root/models/siamese_mnist.dl"
"$dlc" --run "$model" -D epochs=1 -D pairs_per_epoch=6400 --save-weights "$tmp/s.dlw" \
       --report "$tmp/report.json" >"$tmp/out.txt"
cat "$tmp/out.txt"
grep -q '^saved the weights to .* (10 tensors)$' "$tmp/out.txt" # 8 parameters, 2 normalisations
python3 - "$tmp/report.json" <<'PY'
import json, sys
fs = json.load(open(sys.argv[1]))["test"]["few_shot"]
unseen, seen = fs[0], fs[2]
assert unseen["classes"] == [5, 6, 7, 8, 9] and unseen["k_shot"] == 1, unseen
assert seen["classes"] == [0, 1, 2, 3, 4] and seen["k_shot"] == 1, seen
assert unseen["accuracy"] >= 0.40, f"unseen 1-shot {unseen['accuracy']:.3f} < 0.40"
assert seen["accuracy"] >= 0.90, f"seen 1-shot {seen['accuracy']:.3f} < 0.90"
PY

# the encoder's output alone, as deployable C
"$dlc" "$model" --weights "$tmp/s.dlw" --value e1 -o "$tmp/embed.c"
cc -std=c99 -Wall -Wextra -Werror -O2 -fPIC -shared -DDLC_USE_CBLAS -I"$inc" "$tmp/embed.c" \
   -o "$tmp/embed.so" "$blas" -lm
grep -q '^long siamese_output_size(void) { return 64; }$' "$tmp/embed.c"
grep -q '^long siamese_input_size(void) { return 784; }$' "$tmp/embed.c"
for i in 0 1 2 3; do
  args=$(python3 - "$tmp/report.json" "$i" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["test"]["few_shot"][int(sys.argv[2])]
mask = sum(1 << c for c in e["classes"])
print(e["n_way"], e["k_shot"], 15, e["episodes"], mask, repr(e["accuracy"]))
PY
)
  # the few-shot test split holds every class the entries list (all ten); seed 1, entry i
  # shellcheck disable=SC2086
  "$check" "$tmp/embed.so" siamese mnist "$root/data" 0x3ff 1 "$i" $args
done

# errors
expect_error() { # expect_error MESSAGE ARGS...: exit status 1 and MESSAGE on stderr
  local msg=$1
  shift
  if "$dlc" "$@" -o "$tmp/bad.c" 2>"$tmp/err.txt"; then echo "expected an error: $*"; exit 1; fi
  grep -qF -- "$msg" "$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }
  [ ! -e "$tmp/bad.c" ]
}
expect_error "--value e3: model 'siamese' has no value named 'e3'; did you mean 'e1'?" \
  "$model" --weights "$tmp/s.dlw" --value e3
expect_error "--value enc: 'enc' is a block instance of model 'siamese', not a value" \
  "$model" --weights "$tmp/s.dlw" --value enc
expect_error "the inference C takes one input; the output of model 'siamese' reads 2 (--value NAME" \
  "$model" --weights "$tmp/s.dlw"
expect_error "the inference C takes one input; the value of model 'siamese' reads 2" \
  "$model" --weights "$tmp/s.dlw" --value d
expect_error "--value needs --weights" "$model" --value e1
echo "siamese_cnn: ok"
