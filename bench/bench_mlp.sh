#!/usr/bin/env bash
# bench/bench_mlp.sh -- training speed of mnist_mlp: dlc vs. a NumPy peer.
#
# Runs, on this machine and with the same thread settings, the training of
# the MLP 784-512-512-10 (ReLU, softmax cross-entropy, Adam lr=1e-3,
# float32, batch 128, MNIST, E epochs) with
#   (a) dlc:   build/dlc --run models/mnist_mlp.dl -D epochs=E --report FILE
#              (report JSON: train.samples_per_sec, test.accuracy)
#   (b) numpy: python3 bench/mlp_numpy.py --epochs E $NUMPY_ARGS --json FILE
#              (OpenBLAS-backed NumPy, the peer's fastest version; NUMPY_ARGS
#              mirror the .dl file's normalize / schedule / validation)
# R times each, alternating dlc / numpy, and prints the median, min and max
# training samples/s of each, their test accuracy, and the ratio
# dlc / numpy of the medians (the target is >= 2x), plus the numpy version,
# its BLAS, the CPU model and the date.
#
# Thread settings (both peers): OPENBLAS_NUM_THREADS = OMP_NUM_THREADS =
# number of cores (nproc), unless BENCH_THREADS is set.
#
# Usage:  bench/bench_mlp.sh [EPOCHS [RUNS]]
#   EPOCHS       epochs per run      (default: $BENCH_EPOCHS or 1)
#   RUNS         runs of each peer   (default: $BENCH_RUNS or 3)
#   BENCH_THREADS  thread count for both peers (default: nproc)
#   BENCH_DATA     MNIST dir for the numpy peer (default: <repo>/data/mnist)
#   BENCH_NUMPY_ARGS  numpy-peer options that mirror the .dl file (default:
#                  "--normalize standardize --schedule cosine --validation 0.1")
#   BENCH_JSON     if set, also write the summary as JSON to this file
#   BENCH_MAX_OTHERS, BENCH_RETRIES  a run during which other processes used
#                  >= MAX_OTHERS% of the CPUs (default 10) is repeated, up
#                  to RETRIES times (default 2)
#   BENCH_WAIT_IDLE  wait up to this many seconds for the machine to be idle
#                  (<10% CPU busy) before starting (default 0: just warn)
# Run from anywhere; paths are relative to the repo root (parent of bench/).
# If build/dlc does not exist yet, only the numpy peer runs and the script
# says so (exit status 0).

set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

EPOCHS="${1:-${BENCH_EPOCHS:-1}}"
RUNS="${2:-${BENCH_RUNS:-3}}"
THREADS="${BENCH_THREADS:-$(nproc)}"
DATA="${BENCH_DATA:-$ROOT/data/mnist}"
DLC="$ROOT/build/dlc"
# The numpy peer's options that mirror models/mnist_mlp.dl
# (normalize = standardize, schedule = cosine(), validation = 0.1);
# keep in step with the model file.
MAX_OTHERS="${BENCH_MAX_OTHERS:-10}"
RETRIES="${BENCH_RETRIES:-2}"
NUMPY_ARGS="${BENCH_NUMPY_ARGS:---normalize standardize --schedule cosine --validation 0.1}"
MODEL="$ROOT/models/mnist_mlp.dl"

case "$EPOCHS$RUNS$MAX_OTHERS$RETRIES$THREADS" in
    *[!0-9]*|"") echo "usage: $0 [EPOCHS [RUNS]]  (positive integers; the BENCH_* numbers too)" >&2; exit 2 ;;
esac
if [ "$EPOCHS" -lt 1 ] || [ "$RUNS" -lt 1 ]; then
    echo "usage: $0 [EPOCHS [RUNS]]  (positive integers)" >&2; exit 2
fi

export OPENBLAS_NUM_THREADS="$THREADS"
export OMP_NUM_THREADS="$THREADS"

TMP="$(mktemp -d /tmp/bench_mlp.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

# ---- which peers can run -------------------------------------------------
run_dlc=1
dlc_why=""
if [ ! -x "$DLC" ]; then
    run_dlc=0
    dlc_why="build/dlc not found -- build dlc first (e.g. cmake -S . -B build && cmake --build build)"
elif [ ! -f "$MODEL" ]; then
    run_dlc=0
    dlc_why="models/mnist_mlp.dl not found"
fi
if ! python3 -c "import numpy" 2>/dev/null; then
    echo "error: python3 with numpy is required for the numpy peer" >&2
    exit 1
fi
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
    echo "error: MNIST not found in $DATA (set BENCH_DATA=DIR with the IDX .gz files)" >&2
    exit 1
fi

# ---- is the machine quiet? ------------------------------------------------
# Other processes (including ones in other containers, which ps cannot see
# but /proc/stat can) distort the timings badly -- with OpenBLAS threads
# busy-waiting on a shared core, numpy can drop several-fold.  Measure the
# CPU use over 1 s before starting; with BENCH_WAIT_IDLE=N wait up to N s
# for it to fall below BENCH_MAX_OTHERS (10%).
cpu_busy_pct() {  # percent of all CPUs busy over the next second
    local a b
    a=($(sed -n 's/^cpu  //p' /proc/stat)); sleep 1
    b=($(sed -n 's/^cpu  //p' /proc/stat))
    local total=0 idle i
    for i in 0 1 2 3 4 5 6 7; do total=$((total + b[i] - a[i])); done  # no guest
    idle=$(( (b[3] - a[3]) + (b[4] - a[4]) ))
    [ "$total" -gt 0 ] && echo $(( 100 * (total - idle) / total )) || echo 0
}
busy=$(cpu_busy_pct)
waited=0
while [ "$busy" -ge "$MAX_OTHERS" ] && [ "$waited" -lt "${BENCH_WAIT_IDLE:-0}" ]; do
    [ "$waited" -eq 0 ] && echo "machine busy (${busy}% CPU); waiting up to ${BENCH_WAIT_IDLE}s for it to go idle ..."
    sleep 4; busy=$(cpu_busy_pct); waited=$((waited + 5))
done
if [ "$busy" -ge "$MAX_OTHERS" ]; then
    echo "WARNING: the machine is busy (${busy}% CPU used by other processes before"
    echo "         the benchmark); timings will be low and noisy. Re-run when idle"
    echo "         (BENCH_WAIT_IDLE=SECONDS waits for that)."
fi

echo "mnist_mlp training benchmark: $EPOCHS epoch(s) x $RUNS run(s) per peer, batch 128,"
echo "OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=$THREADS; numpy peer options: $NUMPY_ARGS"
[ "$run_dlc" = 1 ] || echo "NOTE: dlc skipped: $dlc_why"
echo

# ---- runs, alternating ---------------------------------------------------
# Each run goes through a small wrapper that also measures how much CPU
# *other* processes used meanwhile (/proc/stat busy time minus the run's own
# CPU time, as a share of all CPUs), so disturbed runs can be spotted.
MEASURE_PY='
import os, resource, subprocess, sys, time
def stat():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4]          # all jiffies (no guest), idle + iowait
def own():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
t0, i0 = stat(); c0 = own(); w0 = time.monotonic()
rc = subprocess.call(sys.argv[2:])
t1, i1 = stat(); c1 = own(); wall = time.monotonic() - w0
busy = ((t1 - t0) - (i1 - i0)) / os.sysconf("SC_CLK_TCK")
others = max(0.0, busy - (c1 - c0)) / (wall * (os.cpu_count() or 1)) * 100
open(sys.argv[1], "w").write("%.0f\n" % others)
sys.exit(rc)
'

# run_peer PEER I CMD... : runs CMD, logs to $TMP/PEER_I.log, prints samples/s.
# A run during which other processes used >= MAX_OTHERS% CPU is repeated, up
# to RETRIES times.
run_peer() {
    local peer="$1" i="$2"; shift 2
    local try=0 others
    printf 'run %d/%d  %-5s ... ' "$i" "$RUNS" "$peer"
    while :; do
        rm -f "$TMP/${peer}_$i.json"
        python3 -c "$MEASURE_PY" "$TMP/${peer}_$i.others" "$@" >"$TMP/${peer}_$i.log" 2>&1 || break
        others=$(cat "$TMP/${peer}_$i.others" 2>/dev/null || echo 0)
        [ "$others" -ge "$MAX_OTHERS" ] && [ "$try" -lt "$RETRIES" ] || break
        try=$((try + 1))
        printf '(disturbed: others used %s%% CPU; retry %d) ... ' "$others" "$try"
    done
    if [ -s "$TMP/${peer}_$i.json" ]; then
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = r["train"]["samples_per_sec"] if sys.argv[2] == "dlc" else r["samples_per_sec"]
print("%8.0f samples/s   (other processes: %s%% CPU)" % (s, open(sys.argv[3]).read().strip()))
' "$TMP/${peer}_$i.json" "$peer" "$TMP/${peer}_$i.others" 2>/dev/null || echo "report unreadable"
    else
        echo "FAILED (last lines of its output:)"
        tail -n 15 "$TMP/${peer}_$i.log" | sed 's/^/    /'
        rm -f "$TMP/${peer}_$i.json"
    fi
}

for i in $(seq 1 "$RUNS"); do
    if [ "$run_dlc" = 1 ]; then
        run_peer dlc "$i" "$DLC" --run "$MODEL" -D epochs="$EPOCHS" --report "$TMP/dlc_$i.json"
    fi
    # shellcheck disable=SC2086  # NUMPY_ARGS is a word list on purpose
    run_peer numpy "$i" python3 "$ROOT/bench/mlp_numpy.py" --data "$DATA" --epochs "$EPOCHS" \
        $NUMPY_ARGS --quiet --json "$TMP/numpy_$i.json"
done
echo

# ---- summary ---------------------------------------------------------------
CPU="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
[ -n "$CPU" ] || CPU="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"

busy_after=$(cpu_busy_pct)

python3 - "$TMP" "$RUNS" "$EPOCHS" "$THREADS" "$CPU" "$run_dlc" "${BENCH_JSON:-}" "$dlc_why" "$busy" "$busy_after" "$MAX_OTHERS" <<'PY'
import datetime, glob, json, os, statistics, sys

tmp, runs, epochs, threads, cpu, run_dlc, out_json, dlc_why, busy, busy_after, max_others = sys.argv[1:12]
max_others = float(max_others)

def load(peer):
    sps, acc, others = [], [], []
    for f in sorted(glob.glob(os.path.join(tmp, peer + "_*.json"))):
        try:
            others.append(float(open(f[:-5] + ".others").read()))
        except (OSError, ValueError):
            pass
        try:
            r = json.load(open(f))
            if peer == "dlc":
                s, a = r["train"]["samples_per_sec"], r.get("test", {}).get("accuracy")
            else:
                s, a = r["samples_per_sec"], r.get("test_accuracy")
        except (ValueError, KeyError, TypeError) as e:
            print(f"warning: {f}: unreadable report ({e})")
            continue
        sps.append(float(s))
        if a is not None:
            a = float(a)
            acc.append(a * 100 if a <= 1.0 else a)   # fraction or percent
    return sps, acc, others

rows = {}
worst_others = max(int(busy), int(busy_after))
print(f"{'peer':<8}{'samples/s median':>18}{'min':>10}{'max':>10}{'runs':>6}{'test acc':>11}"
      f"{'others CPU':>12}")
for peer in ("dlc", "numpy"):
    sps, acc, others = load(peer)
    if not sps:
        print(f"{peer:<8}{'--':>18}{'--':>10}{'--':>10}{0:>6}{'--':>11}{'--':>12}")
        continue
    if others:
        worst_others = max(worst_others, max(others))
    med = statistics.median(sps)
    a = statistics.mean(acc) if acc else None
    rows[peer] = {"median": med, "min": min(sps), "max": max(sps), "runs": len(sps),
                  "all": sps, "test_accuracy_pct": a, "others_cpu_pct": others}
    astr = f"{a:.2f}%" if a is not None else "--"
    ostr = f"<={max(others):.0f}%" if others else "--"
    print(f"{peer:<8}{med:>18.0f}{min(sps):>10.0f}{max(sps):>10.0f}{len(sps):>6}{astr:>11}"
          f"{ostr:>12}")

ratio = None
if "dlc" in rows and "numpy" in rows:
    ratio = rows["dlc"]["median"] / rows["numpy"]["median"]
    verdict = "meets the 2x target" if ratio >= 2.0 else "BELOW the 2x target"
    if worst_others >= max_others:
        verdict += "; UNRELIABLE: the machine was busy"
    print(f"\nratio dlc / numpy (medians): {ratio:.2f}x   ({verdict})")
else:
    why = dlc_why if run_dlc != "1" else "a peer produced no result"
    print(f"\nratio dlc / numpy: n/a ({why})")

# environment
import numpy as np
blas = "unknown"
try:
    cfg = np.show_config(mode="dicts")          # numpy >= 1.25
    b = cfg["Build Dependencies"]["blas"]
    blas = f"{b.get('name', '?')} {b.get('version', '')}".strip()
except Exception:
    pass
try:
    import threadpoolctl                         # optional: runtime view
    infos = [f"{i['internal_api']} {i.get('version') or ''} ({i.get('architecture') or '?'}, "
             f"{i['num_threads']} threads)" for i in threadpoolctl.threadpool_info()
             if i.get("user_api") == "blas"]
    if infos:
        blas += "; runtime: " + ", ".join(infos)
except Exception:
    pass
date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
print(f"numpy {np.__version__}, BLAS: {blas}")
print(f"CPU: {cpu}, {os.cpu_count()} logical CPUs; threads used: {threads}")
print(f"epochs per run: {epochs}, runs per peer: {runs}, date: {date}")
print(f"CPU used by other processes: {busy}% before, {busy_after}% after, at most "
      f"{worst_others:.0f}% during a run"
      + ("  (UNRELIABLE: machine not idle)" if worst_others >= max_others else ""))

if out_json:
    with open(out_json, "w") as f:
        json.dump({"peers": rows, "ratio_dlc_over_numpy": ratio, "epochs": int(epochs),
                   "runs": int(runs), "threads": int(threads), "numpy_version": np.__version__,
                   "blas": blas, "cpu": cpu, "date": date,
                   "others_cpu_pct_before": int(busy), "others_cpu_pct_after": int(busy_after),
                   "others_cpu_pct_worst": worst_others}, f, indent=2)
        f.write("\n")
    print(f"summary written to {out_json}")
PY
