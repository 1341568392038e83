#!/usr/bin/env python3
"""autoencoder_torch.py — PyTorch peer of models/autoencoder.dl: the same network (784 -> 256
-> 32 -> 256 -> 784, ReLU, sigmoid output, nn.Linear's default init), loss MSE against the
image, Adam lr 0.001, batch 128, 10 epochs, the same 90/10 validation split size, unnormalized
pixels in [0, 1]; prints the test reconstruction MSE.
   /usr/bin/python3 bench/autoencoder_torch.py [DATA_DIR] [EPOCHS] [SEED]"""
import gzip
import sys
import time

import numpy as np
import torch
from torch import nn


def images(path):
    raw = gzip.open(path).read()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "data/mnist"
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    train = torch.from_numpy(images(f"{data}/train-images-idx3-ubyte.gz"))
    test = torch.from_numpy(images(f"{data}/t10k-images-idx3-ubyte.gz"))
    order = torch.randperm(len(train))
    train = train[order[: len(train) - len(train) // 10]]
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 32),
                        nn.Linear(32, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    t0 = time.time()
    for epoch in range(epochs):
        perm = torch.randperm(len(train))
        for at in range(0, len(train), 128):
            x = train[perm[at:at + 128]]
            loss = nn.functional.mse_loss(net(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        mse = nn.functional.mse_loss(net(test), test).item()
    print(f"pytorch autoencoder: test reconstruction_mse {mse:.5f} after {epochs} epochs "
          f"({time.time() - t0:.1f}s training)")


if __name__ == "__main__":
    main()
