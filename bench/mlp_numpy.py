#!/usr/bin/env python3
"""NumPy peer for the dlc mnist_mlp training-speed benchmark.

Trains the model that models/mnist_mlp.dl describes, written as fast as
plain NumPy allows, so that dlc is measured against the peer's best effort:

  model      MLP 784-512-512-10, ReLU; dense layers y = x @ W + b with W [in, out]
  init       PyTorch nn.Linear default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  loss       softmax cross-entropy, mean over the batch, max-subtracted for stability
  optimizer  Adam exactly as torch.optim.Adam: lr=1e-3, betas=(0.9, 0.999),
             eps=1e-8, step_size = lr / (1 - b1^t),
             denom = sqrt(v) / sqrt(1 - b2^t) + eps,  p -= step_size * m / denom
  dtype      float32 throughout
  data       MNIST train set, pixels / 255 as float32, flattened to 784;
             reshuffled every epoch with a seeded permutation; the last
             partial batch (60000 % 128 = 96 samples) is included
  batch      128 (--batch)
  metrics    train loss and train accuracy per epoch (inside the timing,
             as dlc's metrics = [accuracy]); test loss/accuracy at the end
  options to match the .dl file (bench/bench_mlp.sh passes them):
    --normalize standardize  (x - mean) / std, one mean/std over all pixels
                             of the training part (default: none, i.e. [0,1])
    --schedule cosine        lr = 1e-3 * (1 + cos(pi * e / epochs)) / 2 for
                             0-based epoch e (default: constant 1e-3)
    --validation 0.1         hold out 10% of the training set, evaluated
                             after each epoch outside the timing (default 0)

Speed measures (all plain NumPy, single process, nothing outside numpy):
  * every activation, gradient and Adam scratch buffer is preallocated and
    written with out= / in-place ufuncs, so the training loop allocates
    (almost) nothing;
  * all parameters live in one flat float32 vector (likewise gradients and
    Adam moments), with per-layer views into it, so Adam is a few ufunc
    calls over 669,706 floats instead of a set per tensor; it is also
    rearranged (exactly equivalent, see MLP.adam) to 10 passes instead of
    the textbook 13 -- in isolation ~0.73 ms/step vs ~0.96 ms here;
  * the GEMMs (forward, weight gradient, input gradient; the input gradient
    of layer 1 is skipped) go to OpenBLAS through np.matmul with out=,
    transposes as views; bias gradients are ones @ dY (BLAS gemv, faster
    than sum(axis=0)); OpenBLAS threading follows OPENBLAS_NUM_THREADS
    (bench/bench_mlp.sh sets it to the core count).
  Tried and dropped: per-tensor Adam (in-place or with temporaries),
  cache-blocked Adam, and Adam split over two Python threads (faster in
  isolation, but no gain inside the training loop next to OpenBLAS's
  threads on a 2-core machine).

Only the training loops (batches of each epoch, including its shuffle) are
timed; loading, normalisation, validation and test evaluation are not.
samples/s = samples processed / seconds.  After training the model is
evaluated on the 10,000 test images to show that it really learns
(1 epoch, seed 0, defaults: 96.3%).

Usage:
  python3 bench/mlp_numpy.py [--data DIR] [--epochs N] [--batch B] [--seed S]
                             [--normalize none|standardize]
                             [--schedule constant|cosine] [--validation FRAC]
                             [--json FILE] [--quiet]
  DIR defaults to <repo>/data/mnist and must contain
  train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
  t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np

F32 = np.float32
LAYERS = [(784, 512), (512, 512), (512, 10)]  # (fan_in, fan_out)

LR = 1e-3
BETA1 = 0.9
BETA2 = 0.999
EPS = 1e-8


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

def load_idx(path):
    """Read an IDX file (gzip-compressed) into a numpy uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic >> 8 != 0x08:  # type byte 0x08 = unsigned byte
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = images.reshape(images.shape[0], -1).astype(F32)
    x *= F32(1.0 / 255.0)
    return x, labels.astype(np.intp)


# ----------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------

class MLP:
    """Parameters, gradients, Adam state and scratch buffers, all preallocated."""

    def __init__(self, batch, rng):
        # Flat parameter / gradient / Adam-moment vectors with per-layer views.
        sizes = []
        for fan_in, fan_out in LAYERS:
            sizes += [fan_in * fan_out, fan_out]
        self.n_params = sum(sizes)
        self.params = np.empty(self.n_params, F32)
        self.grads = np.zeros(self.n_params, F32)
        self.m = np.zeros(self.n_params, F32)
        self.u = np.zeros(self.n_params, F32)  # second moment / K, see adam()
        self.tmp = np.empty(self.n_params, F32)
        self.step = 0
        self.lr = LR  # current learning rate (the schedule sets it per epoch)

        self.W, self.b, self.dW, self.db = [], [], [], []
        off = 0
        for fan_in, fan_out in LAYERS:
            bound = 1.0 / math.sqrt(fan_in)
            w = self.params[off:off + fan_in * fan_out].reshape(fan_in, fan_out)
            dw = self.grads[off:off + fan_in * fan_out].reshape(fan_in, fan_out)
            off += fan_in * fan_out
            b = self.params[off:off + fan_out]
            db = self.grads[off:off + fan_out]
            off += fan_out
            # PyTorch nn.Linear default init (kaiming_uniform(a=sqrt(5)) for W
            # reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)); same bound for b).
            w[...] = rng.uniform(-bound, bound, size=(fan_in, fan_out))
            b[...] = rng.uniform(-bound, bound, size=fan_out)
            self.W.append(w); self.b.append(b); self.dW.append(dw); self.db.append(db)

        # Activation / gradient scratch, sized for a full batch; partial
        # batches use the leading rows (still C-contiguous views).
        self.x = np.empty((batch, 784), F32)
        self.h1 = np.empty((batch, 512), F32)
        self.h2 = np.empty((batch, 512), F32)
        self.z = np.empty((batch, 10), F32)
        self.dh1 = np.empty((batch, 512), F32)
        self.dh2 = np.empty((batch, 512), F32)
        self.rowmax = np.empty((batch, 1), F32)
        self.rowsum = np.empty((batch, 1), F32)
        self.ones = np.ones(batch, F32)
        self.arange = np.arange(batch)

    # -- one training step on x[:n], y[:n] ----------------------------------
    # returns (mean loss of the batch, number of correct argmax predictions)
    def train_step(self, n, y):
        x = self.x[:n]; h1 = self.h1[:n]; h2 = self.h2[:n]; z = self.z[:n]
        dh1 = self.dh1[:n]; dh2 = self.dh2[:n]
        rowmax = self.rowmax[:n]; rowsum = self.rowsum[:n]
        ones = self.ones[:n]; rows = self.arange[:n]
        W1, W2, W3 = self.W
        b1, b2, b3 = self.b
        dW1, dW2, dW3 = self.dW
        db1, db2, db3 = self.db

        # forward
        np.matmul(x, W1, out=h1); h1 += b1; np.maximum(h1, 0, out=h1)
        np.matmul(h1, W2, out=h2); h2 += b2; np.maximum(h2, 0, out=h2)
        np.matmul(h2, W3, out=z); z += b3

        # softmax cross-entropy (mean over the batch); z becomes dL/dz
        np.max(z, axis=1, keepdims=True, out=rowmax)
        z -= rowmax                                   # shifted logits
        target = z[rows, y]                           # shifted logit of the label
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=rowsum)
        loss = float(np.log(rowsum[:, 0]).sum() - target.sum()) / n
        hits = int(np.count_nonzero(target == 0))     # label's logit is the max
        # dL/dz = (softmax - onehot) / n, times grad_scale = 1-b1 (see adam())
        rowsum *= F32(n / self.grad_scale)
        z /= rowsum
        z[rows, y] -= F32(self.grad_scale / n)

        # backward (the input gradient of layer 1 is not needed)
        np.matmul(h2.T, z, out=dW3); np.matmul(ones, z, out=db3)
        np.matmul(z, W3.T, out=dh2); np.multiply(dh2, h2 > 0, out=dh2)
        np.matmul(h1.T, dh2, out=dW2); np.matmul(ones, dh2, out=db2)
        np.matmul(dh2, W2.T, out=dh1); np.multiply(dh1, h1 > 0, out=dh1)
        np.matmul(x.T, dh1, out=dW1); np.matmul(ones, dh1, out=db1)

        self.adam()
        return loss, hits

    # -- torch.optim.Adam (no amsgrad / weight decay), over all params -----
    #
    # torch:  m = b1*m + (1-b1)*G
    #         v = b2*v + (1-b2)*G^2
    #         p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps),  bc_i = 1 - b_i^t
    #
    # Same arithmetic with fewer passes over the 669,706-float vectors:
    # the backward pass produces g = (1-b1)*G directly (the factor rides on
    # dL/dz, so it is free), and the second moment is stored as
    # u = v / K with K = (1-b2)/(1-b1)^2, i.e. u = b2*u + g^2.  Then
    #         m = b1*m + g                        (2 passes)
    #         u = b2*u + g*g                      (3 passes)
    #         p -= m / (sqrt(u)*c1 + c2)          (5 passes)
    # with c1 = sqrt(K/bc2) / (lr/bc1) and c2 = eps / (lr/bc1), which equals
    # torch's update exactly in real arithmetic (float32 rounding aside).
    # 10 ufunc passes instead of the 13 of the textbook in-place version.
    grad_scale = 1.0 - BETA1
    K = (1.0 - BETA2) / (1.0 - BETA1) ** 2

    def adam(self):
        self.step += 1
        t = self.step
        g, m, u, p, tmp = self.grads, self.m, self.u, self.params, self.tmp
        step_size = self.lr / (1.0 - BETA1 ** t)
        bc2 = 1.0 - BETA2 ** t
        c1 = math.sqrt(self.K / bc2) / step_size
        c2 = EPS / step_size
        m *= F32(BETA1); m += g
        np.multiply(g, g, out=tmp); u *= F32(BETA2); u += tmp
        np.sqrt(u, out=tmp); tmp *= F32(c1); tmp += F32(c2)
        np.divide(m, tmp, out=tmp); p -= tmp

    # -- inference: (mean loss, accuracy) on a whole split ---------------------
    def evaluate(self, x, y):
        h = np.maximum(x @ self.W[0] + self.b[0], 0)
        h = np.maximum(h @ self.W[1] + self.b[1], 0)
        z = h @ self.W[2] + self.b[2]
        z -= z.max(axis=1, keepdims=True)
        loss = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))
        return loss, float(np.mean(np.argmax(z, axis=1) == y))


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def cosine_lr(epoch, epochs, lr=LR, min_lr=0.0):
    """CosineAnnealingLR(T_max=epochs) stepped per epoch, 0-based epoch."""
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * epoch / epochs)) / 2


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(repo, "data", "mnist"),
                    help="directory with the MNIST IDX .gz files (default: <repo>/data/mnist)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--normalize", choices=["none", "standardize"], default="none",
                    help="after x/255: none, or (x - mean) / std with one mean/std "
                         "over all pixels of the training part (default: none)")
    ap.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                    help="learning rate per epoch: constant 1e-3, or cosine annealing "
                         "to 0 over the epochs (default: constant)")
    ap.add_argument("--validation", type=float, default=0.0, metavar="FRAC",
                    help="hold out this fraction of the training set, evaluated after "
                         "each epoch outside the timing (default: 0)")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = ap.parse_args()

    try:
        x_all, y_all = load_mnist(args.data, "train")
        x_test, y_test = load_mnist(args.data, "test")
    except FileNotFoundError as e:
        sys.exit(f"mlp_numpy.py: cannot load MNIST: {e}")

    rng = np.random.default_rng(args.seed)
    n_val = int(math.floor(args.validation * x_all.shape[0]))
    split = rng.permutation(x_all.shape[0])
    train_idx, val_idx = split[:x_all.shape[0] - n_val], split[x_all.shape[0] - n_val:]
    x_train = np.ascontiguousarray(x_all[train_idx]); y_train = y_all[train_idx]
    x_val, y_val = x_all[val_idx], y_all[val_idx]
    if args.normalize == "standardize":
        mean = float(x_train.mean(dtype=np.float64))
        std = float(x_train.std(dtype=np.float64))
        for x in (x_train, x_val, x_test):
            x -= F32(mean); x *= F32(1.0 / std)

    model = MLP(args.batch, rng)
    n_train = x_train.shape[0]
    B = args.batch

    # ---- training: only the epochs' training loops are timed ----
    samples = 0
    seconds = 0.0
    epochs = []
    for epoch in range(args.epochs):
        if args.schedule == "cosine":
            model.lr = cosine_lr(epoch, args.epochs)
        t0 = time.perf_counter()
        perm = rng.permutation(n_train)
        loss_sum = 0.0
        hits = 0
        for start in range(0, n_train, B):
            idx = perm[start:start + B]
            n = idx.shape[0]
            np.take(x_train, idx, axis=0, out=model.x[:n])
            loss, h = model.train_step(n, y_train[idx])
            loss_sum += loss * n
            hits += h
        dt = time.perf_counter() - t0
        # ---- end of timed region ----
        seconds += dt
        samples += n_train
        rec = {"epoch": epoch + 1, "train_loss": loss_sum / n_train,
               "train_accuracy": hits / n_train, "seconds": dt,
               "samples_per_sec": n_train / dt, "lr": model.lr}
        if n_val:
            rec["val_loss"], rec["val_accuracy"] = model.evaluate(x_val, y_val)
        epochs.append(rec)
        if not args.quiet:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {rec['train_loss']:.4f}  "
                  f"acc {rec['train_accuracy']:.4f}"
                  + (f"  val_loss {rec['val_loss']:.4f}  val_acc {rec['val_accuracy']:.4f}"
                     if n_val else "")
                  + f"  {rec['samples_per_sec']:.0f} samples/s  {dt:.2f}s", flush=True)

    test_loss, test_acc = model.evaluate(x_test, y_test)
    sps = samples / seconds
    final_loss = epochs[-1]["train_loss"] if epochs else float("nan")
    print(f"numpy {np.__version__}: {samples} samples in {seconds:.3f} s = "
          f"{sps:.0f} samples/s; test accuracy {test_acc * 100:.2f}%; "
          f"last epoch train loss {final_loss:.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples_per_sec": sps, "seconds": seconds, "samples": samples,
                       "epochs": args.epochs, "batch": B, "test_accuracy": test_acc,
                       "test_loss": test_loss, "final_loss": final_loss,
                       "settings": {"normalize": args.normalize, "schedule": args.schedule,
                                    "validation": args.validation, "seed": args.seed,
                                    "OPENBLAS_NUM_THREADS":
                                        os.environ.get("OPENBLAS_NUM_THREADS")},
                       "numpy_version": np.__version__, "epoch_records": epochs},
                      f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
