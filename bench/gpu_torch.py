#!/usr/bin/env python3
"""PyTorch (GPU) peer for dlc's GPU training-speed benchmark (bench/bench_gpu.sh).

Trains the network of models/mnist_mlp.dl or models/mnist_cnn.dl on the GPU the way a
speed-minded PyTorch user would: the whole training set on the device once, batches by
indexing a per-epoch permutation, Adam lr 1e-3 with a cosine schedule per epoch, batch 128,
10% held out for validation (not timed), float32 (TF32 off: dlc's kernels are plain f32).
Eager by default; --compile wraps the model in torch.compile. Only the training loop is
timed (CUDA synchronised at both ends), as dlc's report's train.samples_per_sec. Writes a
JSON summary with --json: samples_per_sec, test_accuracy, torch version, device.
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnn_torch import load, make_model  # noqa: E402  (IDX reader, the CNNs of the .dl files)


def build(name):
    if name == "mnist_mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                             nn.ReLU(), nn.Linear(512, 10))
    return make_model(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["mnist_mlp", "mnist_cnn"], default="mnist_mlp")
    ap.add_argument("--data", default=os.environ.get("DLC_DATA", "data") + "/mnist")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(a.seed)
    dev = torch.device("cuda")
    x, y = load(a.data, "train")
    xt, yt = load(a.data, "test")
    n_val = len(x) // 10
    perm = torch.randperm(len(x))
    tr, va = perm[n_val:], perm[:n_val]
    mean, std = x[tr].mean(), x[tr].std()
    x, xt = ((x - mean) / std).to(dev), ((xt - mean) / std).to(dev)
    y, yt = y.to(dev), yt.to(dev)
    tr, va = tr.to(dev), va.to(dev)
    model = build(a.model).to(dev)
    step = torch.compile(model) if a.compile else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    loss_fn = nn.CrossEntropyLoss()
    seconds, samples = 0.0, 0
    for epoch in range(a.epochs):
        model.train()
        order = tr[torch.randperm(len(tr), device=dev)]
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(0, len(order), a.batch):
            idx = order[i:i + a.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(step(x[idx]), y[idx])
            loss.backward()
            opt.step()
        torch.cuda.synchronize()
        seconds += time.perf_counter() - t0
        samples += len(order)
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = sum((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item()
                  for i in range(0, len(xt), 1000)) / len(xt)
    r = {"model": a.model, "mode": "compile" if a.compile else "eager",
         "samples_per_sec": samples / seconds, "seconds": seconds, "test_accuracy": acc,
         "torch": torch.__version__, "device": torch.cuda.get_device_name()}
    print(json.dumps(r))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f)


if __name__ == "__main__":
    main()
