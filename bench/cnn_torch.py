#!/usr/bin/env python3
"""PyTorch (CPU) peer for dlc's CNN training-speed benchmark (bench/bench_cnn.py).

Trains the network of models/mnist_cnn.dl (or, with --model fashion_cnn, of
models/fashion_cnn.dl) the way a PyTorch user would write it, with the
framework's best CPU settings:

  mnist_cnn    conv 3x3 32 -> relu -> maxpool 2 -> conv 3x3 64 -> relu ->
               maxpool 2 -> flatten -> dense 128 -> relu -> dense 10
  fashion_cnn  conv 3x3 32 'same' -> batchnorm -> relu -> maxpool 2 ->
               conv 3x3 64 'same' -> batchnorm -> relu -> maxpool 2 -> flatten
               -> dense 128 -> batchnorm -> relu -> dropout 0.3 -> dense 10;
               random horizontal flips (p 0.5) of the training images
  optimizer    Adam lr 1e-3 with a cosine schedule per epoch (as the .dl files)
  data         the IDX training set standardised with the training part's
               mean/std; 10% held out for validation (evaluated outside the
               timing); reshuffled every epoch; last partial batch included
  threads      torch.set_num_threads(--threads, default: the core count),
               one intra-op pool and nothing else competing
  mode         eager by default; --compile wraps the model in torch.compile

Only the training loop is timed (as in dlc's report: train.samples_per_sec).
Writes a JSON summary with --json: samples_per_sec, test_accuracy, torch version.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return (torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1),
            torch.from_numpy(y.astype(np.int64)))


def conv_block(cin, cout, bn):
    """conv 3x3 (no padding; 'same' with batchnorm, as the .dl files) -> [bn] -> relu -> pool 2"""
    layers = [nn.Conv2d(cin, cout, 3, padding=1 if bn else 0)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return layers + [nn.ReLU(), nn.MaxPool2d(2)]


def make_model(name):
    if name == "mnist_cnn":
        return nn.Sequential(*conv_block(1, 32, False), *conv_block(32, 64, False), nn.Flatten(),
                             nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(*conv_block(1, 32, True), *conv_block(32, 64, True), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.BatchNorm1d(128), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(128, 10))


def hflip(xb):
    """RandomHorizontalFlip(0.5) per sample, on a batch"""
    flip = torch.rand(len(xb), 1, 1, 1) < 0.5
    return torch.where(flip, xb.flip(3), xb)


def evaluate(model, x, y, batch=1000):
    model.eval()
    hits = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            hits += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return hits / len(x)


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["mnist_cnn", "fashion_cnn"], default="mnist_cnn")
    ap.add_argument("--data", help="IDX directory (default: data/mnist or data/fashion-mnist)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    data = args.data or os.path.join(repo, "data",
                                     "mnist" if args.model == "mnist_cnn" else "fashion-mnist")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x, y = load(data, "train")
    xt, yt = load(data, "test")
    perm = torch.randperm(len(x))
    n_val = len(x) // 10
    xv, yv, x, y = x[perm[:n_val]], y[perm[:n_val]], x[perm[n_val:]], y[perm[n_val:]]
    mean, std = x.mean(), x.std()
    x, xv, xt = (x - mean) / std, (xv - mean) / std, (xt - mean) / std

    model = make_model(args.model)
    step_model = torch.compile(model) if args.compile else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    seconds, samples = 0.0, 0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(x))
        for i in range(0, len(x), args.batch):
            idx = order[i:i + args.batch]
            xb = hflip(x[idx]) if args.model == "fashion_cnn" else x[idx]
            loss = F.cross_entropy(step_model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        epoch_seconds = time.perf_counter() - t0
        seconds += epoch_seconds
        samples += len(x)
        sched.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}  val_acc {evaluate(model, xv, yv):.4f}  "
              f"{len(x) / epoch_seconds:.0f} samples/s", flush=True)
    acc = evaluate(model, xt, yt)
    result = {"samples_per_sec": samples / seconds, "test_accuracy": acc,
              "torch": torch.__version__, "threads": args.threads, "compile": args.compile,
              "epochs": args.epochs}
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
