#!/usr/bin/env python3
"""rbm_torch.py — PyTorch anchor of models/rbm_mnist.dl (issue 15): a Bernoulli RBM on binarized
MNIST trained by CD-1, then softmax regression on its frozen hidden probabilities beside the same
regression on the raw binarized pixels.

Data: data/mnist's IDX files; a pixel is 1 where pixel / 255 > 0.5, else 0 (models/rbm_mnist.dl's
`greater(image, 0.5)`). All 60,000 training images train; the 10,000 test images are touched
once, at the end.

RBM (as models/rbm_mnist.dl): W [784, H] ~ N(0, 0.01^2), visible bias b [784] and hidden bias
c [H] zero. Per batch of 100: h0p = sigmoid(v0 W + c), h0 ~ Bernoulli(h0p), v1 = sigmoid(h0 W^T +
b) (the reconstruction's probabilities, not a sample: Hinton's practical guide, section 3.2).
The loss is the free-energy difference mean F(v0) - mean F(detach(v1)) with F(v) = -v.b -
sum_j softplus(c_j + (v W)_j); its gradient is the CD-1 update (-(v0^T h0p - v1^T h1p) / B for
W, h1p = sigmoid(v1 W + c)), which main() checks once against the explicit formula.
torch.optim.SGD(lr 0.05, momentum 0.5), shuffled batches of 100. Reconstruction error:
mean((v1 - v0)^2) over every element, per epoch (training batches) and on the test split.

Regression (the same recipe on both inputs): nn.Linear(features, 10), torch's default init,
cross-entropy, Adam lr 0.001, batch 100, 20 epochs, shuffled; test accuracy.

   /usr/bin/python3 bench/rbm_torch.py [--data data/mnist] [--hidden 500] [--epochs 5]
       [--seed 1] [--threads 2]"""
import argparse
import gzip
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def binarized(path):
    raw = gzip.open(path).read()
    x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    return torch.from_numpy((x > 0.5).astype(np.float32))


def labels(path):
    return torch.from_numpy(np.frombuffer(gzip.open(path).read(), np.uint8, offset=8).astype(np.int64))


def free_energy(v, W, b, c):
    """F(v) per sample: -v.b - sum_j softplus(c_j + (v W)_j)"""
    return -(v @ b) - F.softplus(v @ W + c).sum(1)


def cd1_terms(v0, W, b, c):
    """the CD-1 chain: h0 probabilities, the reconstruction's probabilities v1"""
    h0p = torch.sigmoid(v0 @ W + c)
    h0 = torch.bernoulli(h0p)
    v1 = torch.sigmoid(h0 @ W.t() + b)
    return h0p, v1


def check_cd1_gradient(v0, W, b, c):
    """the free-energy difference's gradient equals the explicit CD-1 update (float64)"""
    W, b, c = (t.detach().double().requires_grad_() for t in (W, b, c))
    v0 = v0.double()
    _, v1 = cd1_terms(v0, W, b, c)
    v1 = v1.detach()
    loss = free_energy(v0, W, b, c).mean() - free_energy(v1, W, b, c).mean()
    gW, gb, gc = torch.autograd.grad(loss, (W, b, c))
    n = len(v0)
    h0p, h1p = torch.sigmoid(v0 @ W + c), torch.sigmoid(v1 @ W + c)
    want = (-(v0.t() @ h0p - v1.t() @ h1p) / n, -(v0 - v1).mean(0), -(h0p - h1p).mean(0))
    for name, got, ref in zip(("W", "b", "c"), (gW, gb, gc), want):
        err = (got - ref).abs().max().item()
        assert err < 1e-12, f"CD-1 gradient of {name} differs by {err}"


def train_rbm(train, test, hidden, epochs):
    W = (0.01 * torch.randn(784, hidden)).requires_grad_()
    b = torch.zeros(784, requires_grad=True)
    c = torch.zeros(hidden, requires_grad=True)
    opt = torch.optim.SGD([W, b, c], lr=0.05, momentum=0.5)
    check_cd1_gradient(train[:100], W, b, c)
    for epoch in range(epochs):
        perm, total, t0 = torch.randperm(len(train)), 0.0, time.time()
        for at in range(0, len(train), 100):
            v0 = train[perm[at:at + 100]]
            _, v1 = cd1_terms(v0, W, b, c)
            v1 = v1.detach()
            loss = free_energy(v0, W, b, c).mean() - free_energy(v1, W, b, c).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += F.mse_loss(v1, v0).item() * len(v0)
        print(f"rbm epoch {epoch + 1}/{epochs}  reconstruction_mse {total / len(train):.5f}  "
              f"({time.time() - t0:.1f} s)", flush=True)
    with torch.no_grad():
        _, v1 = cd1_terms(test, W, b, c)
        print(f"rbm test  reconstruction_mse {F.mse_loss(v1, test).item():.5f}")
    return W.detach(), c.detach()


def regression(name, train_x, train_y, test_x, test_y, epochs=20):
    model = nn.Linear(train_x.shape[1], 10)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    t0 = time.time()
    for _ in range(epochs):
        perm = torch.randperm(len(train_x))
        for at in range(0, len(train_x), 100):
            idx = perm[at:at + 100]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f"softmax regression on {name}: test accuracy {100 * acc:.2f}%  ({time.time() - t0:.1f} s)")
    return acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train, test = binarized(f"{args.data}/train-images-idx3-ubyte.gz"), binarized(f"{args.data}/t10k-images-idx3-ubyte.gz")
    train_y, test_y = labels(f"{args.data}/train-labels-idx1-ubyte.gz"), labels(f"{args.data}/t10k-labels-idx1-ubyte.gz")
    t0 = time.time()
    W, c = train_rbm(train, test, args.hidden, args.epochs)
    print(f"rbm 784-{args.hidden}: {args.epochs} epochs in {time.time() - t0:.1f} s")
    with torch.no_grad():
        feats = (torch.sigmoid(train @ W + c), torch.sigmoid(test @ W + c))
    regression(f"RBM hidden probabilities ({args.hidden})", feats[0], train_y, feats[1], test_y)
    regression("raw binarized pixels (784)", train, train_y, test, test_y)
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
