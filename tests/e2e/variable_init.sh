#!/usr/bin/env bash
# variable(..., init = ...): compiles a model of initialised variables with dlc -o into a shared
# object and checks, with check_variable_init (linked with the runtime), that the weights
# dlrt_session_init draws from its tensor table follow each variable's law.
#   variable_init.sh DLC CHECK_VARIABLE_INIT
set -eu
dlc=$1 check=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/vinit.dl" <<'DL'
model vinit {
  input x: f32[4]
  W = variable(784, 500, name = "W", init = normal(std = 0.01))
  U = variable(300, 200, name = "U", init = uniform(-0.5, 1.5))
  G = variable(400, 300, name = "G", init = xavier_normal)
  K = variable(3, 5, name = "K", init = constant(0.25))
  Z = variable(10, name = "Z")
  y = x * (mean(W) + mean(U) + mean(G) + mean(K) + mean(Z))
}
train vinit {
  loss = mse(y, x)
  batch = 4
}
DL
"$dlc" "$tmp/vinit.dl" -o "$tmp/vinit.c"
cc -std=c99 -O1 -shared -fPIC -o "$tmp/vinit.so" "$tmp/vinit.c" -lm
"$check" "$tmp/vinit.so"
