#!/usr/bin/env python3
"""gan_torch.py -- the PyTorch anchor for issue 15's GAN: an MLP GAN on MNIST.

G: 100 -> 256 -> 512 -> 1024 -> 784, each hidden layer Linear + BatchNorm1d + ReLU (--no-bn:
Linear + ReLU), tanh output. D: 784 -> 512 -> 256 -> 1, LeakyReLU(0.2) after each hidden layer,
one logit out. Non-saturating loss with BCEWithLogitsLoss: D minimises
bce(D(x), 1) + bce(D(G(z)), 0) (G(z) detached), then G minimises bce(D(G(z)), 1) on a fresh
z ~ N(0, I_100), one D step then one G step per batch. Adam lr 2e-4, betas (0.5, 0.999) for
both; batch 128 (the training set shuffled each epoch, the last partial batch of 96 kept);
PyTorch's default initialisation. MNIST pixels scaled to [-1, 1], read from the repository's
data/mnist/train-images-idx3-ubyte[.gz] (gzip or raw IDX).

After training, --samples FILE writes 1,000 samples (z from --seed + 1, so they do not depend on
the training's draws) as an IDX file of u8 28x28 images, [-1, 1] mapped to 0..255 as
runtime/dlrt_idx.c does (floor((x + 1) / 2 * 255 + 0.5), clamped): 0 = background, MNIST's
polarity. --sample-mode picks the generator's mode for sampling: eval (batchnorm with its running
statistics; the default) or train (batchnorm with the statistics of the 1,000 samples, drawn as
one batch, as DCGAN-style code that never calls eval() does). bench/RESULTS.md ("GAN judge")
has both judged. --save-generator / --load-generator keep G's state to sample again without
training (--epochs 0 with --load-generator).

Prints the losses (means over the epoch) and the time of each epoch, and the total.

Usage: /usr/bin/python3 bench/gan_torch.py [--epochs N] [--no-bn] [--seed S] [--threads T]
           [--samples FILE] [--sample-mode eval|train] [--data DIR]
           [--save-generator G.pt] [--load-generator G.pt]
Judge the samples with bench/gan_judge.sh FILE.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOISE = 100
SAMPLES = 1000


def read_idx_images(path):
    """The u8 images of an IDX file (gzip or raw) as an (n, rows*cols) uint8 array."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, kind, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or kind != 0x08 or rank != 3:
        sys.exit(f"{path}: not an IDX file of u8 images (type 0x{kind:02x}, rank {rank})")
    n, rows, cols = struct.unpack(">III", raw[4:16])
    data = np.frombuffer(raw, np.uint8, offset=16)
    if data.size != n * rows * cols:
        sys.exit(f"{path}: {data.size} bytes of pixels; the header says {n * rows * cols}")
    return data.reshape(n, rows * cols)


def find_train_images(data_dir):
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        path = os.path.join(data_dir, "mnist", name)
        if os.path.exists(path):
            return path
    sys.exit(f"{data_dir}/mnist: no train-images-idx3-ubyte[.gz]")


def write_idx_images(path, x):
    """x in [-1, 1], shape (n, 784): an IDX u8 file of n 28x28 images, written atomically."""
    v = np.floor((x.astype(np.float64) + 1.0) / 2.0 * 255.0 + 0.5)
    pixels = np.clip(v, 0, 255).astype(np.uint8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack(">HBBIII", 0, 0x08, 3, x.shape[0], 28, 28))
        f.write(pixels.tobytes())
    os.replace(tmp, path)


def generator(batchnorm):
    layers, width = [], NOISE
    for units in (256, 512, 1024):
        layers.append(nn.Linear(width, units))
        if batchnorm:
            layers.append(nn.BatchNorm1d(units))
        layers.append(nn.ReLU())
        width = units
    layers += [nn.Linear(width, 784), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator():
    return nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256),
                         nn.LeakyReLU(0.2), nn.Linear(256, 1))


def train_epoch(G, D, opt_g, opt_d, data, gen):
    """One pass over data (shuffled); returns the mean D and G losses."""
    bce = nn.BCEWithLogitsLoss()
    order = torch.randperm(data.shape[0], generator=gen)
    sums, batches = [0.0, 0.0], 0
    for at in range(0, data.shape[0], 128):
        real = data[order[at:at + 128]]
        n = real.shape[0]
        ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
        fake = G(torch.randn(n, NOISE, generator=gen))
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(D(G(torch.randn(n, NOISE, generator=gen))), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        sums[0] += loss_d.item()
        sums[1] += loss_g.item()
        batches += 1
    return sums[0] / batches, sums[1] / batches


def sample(G, mode, seed):
    """SAMPLES images from G in mode ('eval' or 'train': one batch of SAMPLES), as numpy."""
    G.train(mode == "train")
    with torch.no_grad():
        z = torch.randn(SAMPLES, NOISE, generator=torch.Generator().manual_seed(seed + 1))
        return G(z).numpy()


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch MLP GAN on MNIST (issue 15's anchor)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--no-bn", action="store_true", help="the generator without batchnorm")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--samples", metavar="FILE", help="write 1,000 samples as IDX u8 28x28")
    p.add_argument("--sample-mode", choices=("eval", "train"), default="eval")
    p.add_argument("--data", default=os.path.join(ROOT, "data"), help="holds mnist/ (IDX)")
    p.add_argument("--save-generator", metavar="FILE")
    p.add_argument("--load-generator", metavar="FILE")
    return p.parse_args()


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    G, D = generator(not a.no_bn), discriminator()
    if a.load_generator:
        G.load_state_dict(torch.load(a.load_generator))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.time()
    if a.epochs > 0:
        pixels = read_idx_images(find_train_images(a.data))
        data = torch.from_numpy(pixels.astype(np.float32) / 127.5 - 1.0)
        print(f"gan_torch: G {'with' if not a.no_bn else 'without'} batchnorm, {a.epochs} "
              f"epochs, batch 128, seed {a.seed}, {a.threads} thread{'s' if a.threads != 1 else ''}, "
              f"{data.shape[0]} images",
              flush=True)
    for epoch in range(1, a.epochs + 1):
        G.train(), D.train()
        start = time.time()
        loss_d, loss_g = train_epoch(G, D, opt_g, opt_d, data, gen)
        print(f"epoch {epoch}/{a.epochs}  loss_d {loss_d:.4f}  loss_g {loss_g:.4f}  "
              f"{time.time() - start:.1f}s", flush=True)
    print(f"training: {time.time() - t0:.1f}s")
    if a.save_generator:
        torch.save(G.state_dict(), a.save_generator)
    if a.samples:
        write_idx_images(a.samples, sample(G, a.sample_mode, a.seed))
        print(f"wrote {SAMPLES} samples ({a.sample_mode} mode) to {a.samples}")


if __name__ == "__main__":
    main()
