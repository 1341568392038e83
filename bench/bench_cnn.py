#!/usr/bin/env python3
"""CNN training speed on the CPU: dlc beside PyTorch, in one run, as a ratio.

  bench/bench_cnn.py [--model mnist_cnn|fashion_cnn] [--epochs E] [--runs R] [--compile]
                     [--python PY] [--json FILE] [--wait-idle SECONDS]

Runs, alternating, R times each: `build/dlc --run models/MODEL.dl -D epochs=E --report`
and `PY bench/cnn_torch.py --model MODEL --epochs E` (PyTorch eager; with --compile also
torch.compile), and prints the median training samples/s of each, their test accuracy and the
ratio dlc / PyTorch. PY defaults to bench/.venv/bin/python (made by bench/setup_peers.sh with
the newest torch from PyPI), else python3.

Thread settings, the same for every peer: OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = the core
count; PyTorch also gets torch.set_num_threads(core count). Only the training loop is timed
by each peer. Run it on an idle machine: other processes make every figure meaningless. Before
each run it waits (up to --wait-idle seconds, default $BENCH_WAIT_IDLE or 0) for the CPUs to be
less than 10% busy, and it prints the share of the CPUs other processes used during each run
(from /proc/stat, less the run's own CPU time): a run with more than a few percent is suspect.
"""
import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


MAX_OTHERS = 10  # percent of all CPUs: busier than this is not idle


def cpu_times():
    """all jiffies (no guest) and idle + iowait jiffies since boot, from /proc/stat"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4]


def busy_percent(seconds=1.0):
    t0, i0 = cpu_times()
    time.sleep(seconds)
    t1, i1 = cpu_times()
    return 100.0 * ((t1 - t0) - (i1 - i0)) / max(1, t1 - t0)


def wait_idle(limit):
    waited, busy = 0.0, busy_percent()
    while busy >= MAX_OTHERS and waited < limit:
        time.sleep(2)
        waited += 3
        busy = busy_percent()
    return busy


def run(cmd, env, report):
    """runs cmd; its report, and the percent of all CPUs other processes used meanwhile"""
    own = lambda: sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f)
                      for f in ("ru_utime", "ru_stime"))
    (t0, i0), c0, w0 = cpu_times(), own(), time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    (t1, i1), c1, wall = cpu_times(), own(), time.monotonic() - w0
    if proc.returncode != 0:
        sys.exit(f"bench_cnn: {' '.join(cmd)} failed:\n{proc.stdout[-2000:]}")
    busy = ((t1 - t0) - (i1 - i0)) / os.sysconf("SC_CLK_TCK")
    others = max(0.0, busy - (c1 - c0)) / (wall * (os.cpu_count() or 1)) * 100
    with open(report) as f:
        return json.load(f), others


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["mnist_cnn", "fashion_cnn"], default="mnist_cnn")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile")
    venv_py = os.path.join(ROOT, "bench", ".venv", "bin", "python")
    ap.add_argument("--python", default=venv_py if os.path.exists(venv_py) else "python3")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--wait-idle", type=float, metavar="SECONDS",
                    default=float(os.environ.get("BENCH_WAIT_IDLE", "0")),
                    help="before each run, wait up to this long for the machine to be idle")
    args = ap.parse_args()

    threads = str(os.cpu_count())
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
    dlc = os.path.join(ROOT, "build", "dlc")
    model = os.path.join(ROOT, "models", args.model + ".dl")
    peers = {"dlc": lambda r: [dlc, "--run", model, "-q", "-D", f"epochs={args.epochs}",
                               "--report", r],
             "torch eager": lambda r: [args.python, os.path.join(ROOT, "bench", "cnn_torch.py"),
                                       "--model", args.model, "--epochs", str(args.epochs),
                                       "--threads", threads, "--json", r]}
    if args.compile:
        peers["torch.compile"] = lambda r: peers["torch eager"](r) + ["--compile"]
    speed = {p: [] for p in peers}
    acc = {p: [] for p in peers}
    others = {p: [] for p in peers}
    torch_version = "?"
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        for i in range(args.runs):
            for peer, cmd in peers.items():
                busy = wait_idle(args.wait_idle)
                if busy >= MAX_OTHERS:
                    print(f"warning: the machine is busy ({busy:.0f}% CPU) before this run", flush=True)
                r, o = run(cmd(report), env, report)
                others[peer].append(o)
                if peer == "dlc":
                    s, a = r["train"]["samples_per_sec"], r["test"]["accuracy"]
                else:
                    s, a, torch_version = r["samples_per_sec"], r["test_accuracy"], r["torch"]
                speed[peer].append(s)
                acc[peer].append(a)
                print(f"run {i + 1}/{args.runs}  {peer:<14} {s:8.0f} samples/s  test acc {a:.4f}"
                      f"  others' CPU {o:.0f}%", flush=True)
    med = {p: statistics.median(v) for p, v in speed.items()}
    print(f"\n{args.model}, {args.epochs} epoch(s), batch 128, {threads} threads, torch {torch_version}")
    for p in peers:
        print(f"  {p:<14} median {med[p]:8.0f} samples/s  (min {min(speed[p]):.0f}, "
              f"max {max(speed[p]):.0f})  test acc {statistics.mean(acc[p]):.4f}  "
              f"others' CPU <= {max(others[p]):.0f}%")
    ratios = {p: med["dlc"] / med[p] for p in peers if p != "dlc"}
    for p, r in ratios.items():
        print(f"  ratio dlc / {p}: {r:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "epochs": args.epochs, "runs": args.runs,
                       "threads": int(threads), "torch": torch_version, "samples_per_sec": speed,
                       "median": med, "ratios": ratios, "test_accuracy": acc,
                       "others_cpu_percent": others,
                       "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}, f,
                      indent=2)


if __name__ == "__main__":
    main()
