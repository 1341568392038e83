#!/usr/bin/env python3
"""siamese_torch.py — the PyTorch peer of models/siamese_mnist.dl, for bench/RESULTS.md.

The same network (conv 32 3x3 - relu - maxpool 2 - conv 64 3x3 - relu - maxpool 2 - dense 128 -
relu - dense 64, torch's default initialisation), the same data (pairs of MNIST training digits
0-4, first uniform, second of the same class with probability 0.5 (another sample of it) else of
another class, redrawn each epoch; pixels standardized by the training part's mean and std), the
same loss (Caffe's contrastive loss over pairwise_distance, margin 1), optimizer (Adam 1e-3) and
schedule (10 epochs of 150 steps of 128 pairs), and the same evaluation as dlc's few_shot (test
split; per episode n_way classes, k_shot support and 15 query images per class; nearest
prototype by L2; accuracy over all queries, 95% interval 1.96 std / sqrt(episodes)).

    /usr/bin/python3 bench/siamese_torch.py [DATA_DIR] [--threads N] [--seed S]
                                            [--raw] [--padding P] [--no-half]

Protocol probes (bench/RESULTS.md), each off by default: --raw keeps the pixels in [0, 1] (no
standardization), --padding 1 pads both convolutions (dense 128 then reads 64 x 7 x 7), --no-half
drops Caffe's 1/2 from the loss (the sum form many PyTorch examples use).

Prints one line per evaluation and the training time. The draws are numpy's, not dlc's, so the
figures agree in distribution, not digit for digit.
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = idx(os.path.join(data_dir, "mnist", f"{prefix}-images-idx3-ubyte.gz"))
    y = idx(os.path.join(data_dir, "mnist", f"{prefix}-labels-idx1-ubyte.gz"))
    return x.astype(np.float32) / 255.0, y.astype(np.int64)


class Encoder(nn.Module):
    def __init__(self, padding=0):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=padding)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=padding)
        self.dense1 = nn.Linear(64 * (7 if padding else 5) ** 2, 128)
        self.dense2 = nn.Linear(128, 64)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.dense2(F.relu(self.dense1(h.flatten(1))))


def draw_pairs(rng, labels, n, same_share):
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    first = rng.integers(0, len(labels), n)
    same = rng.random(n) < same_share
    second = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = labels[first[i]]
        if same[i]:
            pool = by_class[c]
            j = pool[rng.integers(0, len(pool) - 1)]
            second[i] = j if j != first[i] else pool[-1]
        else:
            others = np.flatnonzero(labels != c)
            second[i] = others[rng.integers(0, len(others))]
    return first, second, same.astype(np.float32)


def contrastive(d, same, margin=1.0, half=True):
    return (same * d ** 2 + (1 - same) * F.relu(margin - d) ** 2).mean() / (2 if half else 1)


def few_shot(rng, emb, labels, classes, n_way, k_shot, queries=15, episodes=1000):
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    accs = []
    for _ in range(episodes):
        chosen = rng.choice(classes, n_way, replace=False)
        protos, qs, qy = [], [], []
        for k, c in enumerate(chosen):
            pick = rng.choice(by_class[c], k_shot + queries, replace=False)
            protos.append(emb[pick[:k_shot]].mean(0))
            qs.append(emb[pick[k_shot:]])
            qy += [k] * queries
        protos, qs = np.stack(protos), np.concatenate(qs)
        d = ((qs[:, None, :] - protos[None, :, :]) ** 2).sum(-1)
        accs.append(float((d.argmin(1) == np.array(qy)).mean()))
    accs = np.array(accs)
    return accs.mean(), 1.96 * accs.std(ddof=1) / math.sqrt(episodes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--padding", type=int, default=0)
    ap.add_argument("--no-half", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "test")
    keep = ytr < 5
    xtr, ytr = xtr[keep], ytr[keep]
    mean, std = (0.0, 1.0) if a.raw else (xtr.mean(), xtr.std())
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    xtr_t = torch.from_numpy(xtr).unsqueeze(1)
    model = Encoder(a.padding)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(10):
        first, second, same = draw_pairs(rng, ytr, 150 * 128, 0.5)
        total = 0.0
        for s in range(150):
            b = slice(s * 128, (s + 1) * 128)
            e1, e2 = model(xtr_t[first[b]]), model(xtr_t[second[b]])
            loss = contrastive(F.pairwise_distance(e1, e2), torch.from_numpy(same[b]), half=not a.no_half)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/10  loss {total / 150:.4f}  {time.time() - start:.1f}s", flush=True)
    train_s = time.time() - start
    with torch.no_grad():
        emb = torch.cat([model(torch.from_numpy(xte[i:i + 1000]).unsqueeze(1))
                         for i in range(0, len(xte), 1000)]).numpy()
    for classes in ([5, 6, 7, 8, 9], [0, 1, 2, 3, 4]):
        for k in (1, 5):
            acc, ci = few_shot(rng, emb, yte, classes, 5, k)
            print(f"few-shot 5-way {k}-shot classes {classes}: {100 * acc:.1f}% ± {100 * ci:.1f}%")
    print(f"training: {train_s:.1f} s ({a.threads} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
