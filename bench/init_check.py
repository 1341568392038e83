#!/usr/bin/env python3
"""init_check.py — are a model's initial weights what torch's default initialization draws?

Reads weights files (.dlw, the format of runtime/dlrt_weights.h) holding a model's *initial*
weights (e.g. `dlc --run` of a copy of the model with `adam(lr = 1e-30)`, one short epoch and
`--save-weights`) and tests each tensor against U(-b, b), b = 1/sqrt(fan_in) (nn.Linear's and
nn.Conv2d's default for weights and biases), and the draw for structure:

  per tensor   mean, variance (z against b^2/3), min/max gaps, Kolmogorov-Smirnov, 64-bin
               chi-square, lag 1..8 autocorrelation in memory order, the low 8 bits of the
               f32 mantissa (chi-square over 256), repeated f32 values against their
               expectation;
  per unit     the rows (conv filters, dense output units = dlc's columns): pairwise
               correlations (sum of L r^2 against chi-square), the spread of row means and
               row variances against independent draws;
  across       every pair of tensors of a file (correlation of the first min(n) elements at
               lags -4..4, shared f32 values), and every pair of files for the same tensor
               (lags -4..4).

Every statistic is printed as a z-score (|z| > 5 flagged); a summary over all files gives the
mean and rms of each z (0 and 1 for a correct draw; an rms under 1 for the counts of rare
events, duplicates and shared values, whose z is 0 unless a tail is under one half).
torch's own draw fails dup_f32 and low8bits for large tensors: its CPU uniform_ for f32 takes
24 random bits, so its values lie on a grid of 2b / 2^24, coarser than f32 near 0.

    /usr/bin/python3 bench/init_check.py FILE.dlw [FILE.dlw ...]
    /usr/bin/python3 bench/init_check.py --torch SEED OUT.dlw   # torch's draw of siamese_mnist
    /usr/bin/python3 bench/init_check.py --replay SEED FILE.dlw # dlc's generator in Python:
                                                                 # bit-exact against FILE?
    /usr/bin/python3 bench/init_check.py --raw SEED             # raw xoshiro256** words of the
                                                                 # per-tensor streams

fan_in: X.w of rank 4 [O, C, kh, kw]: C kh kw; rank 2 (dlc's dense layout [in, units]): in;
X.b: that of X.w. --torch writes dense weights transposed into dlc's layout.
"""
import math
import struct
import sys
import zlib

import numpy as np

FLAG = 5.0

# ---- the weights file ----


def read_dlw(path):
    """[(name, dims, float64 array)] of a .dlw file, checksum verified"""
    raw = open(path, "rb").read()
    if raw[:4] != b"DLCW" or zlib.crc32(raw[:-4]) != struct.unpack("<I", raw[-4:])[0]:
        sys.exit(f"{path}: not a dlc weights file, or corrupt")
    count = struct.unpack_from("<I", raw, 8)[0]
    at, table = 12, []
    for _ in range(count):
        n = struct.unpack_from("<I", raw, at)[0]
        name = raw[at + 4:at + 4 + n].decode()
        dtype, rank = struct.unpack_from("<II", raw, at + 4 + n)
        dims = struct.unpack_from(f"<{rank}Q", raw, at + 12 + n)
        table.append((name, dtype, dims))
        at += 12 + n + 8 * rank
    out = []
    for name, dtype, dims in table:
        numel = int(np.prod(dims)) if dims else 1
        fmt, size = ("<f8", 8) if dtype == 2 else ("<f4", 4)
        out.append((name, tuple(dims), np.frombuffer(raw, fmt, numel, at).astype(np.float64),
                    np.frombuffer(raw, fmt, numel, at).copy()))
        at += numel * size
    return out


def write_dlw(path, tensors):
    """tensors: [(name, f32 array)]"""
    head, data = [b"DLCW", struct.pack("<II", 1, len(tensors))], []
    for name, a in tensors:
        nb = name.encode()
        head.append(struct.pack("<I", len(nb)) + nb + struct.pack("<II", 0, a.ndim))
        head.append(struct.pack(f"<{a.ndim}Q", *a.shape))
        data.append(np.ascontiguousarray(a, "<f4").tobytes())
    body = b"".join(head + data)
    open(path, "wb").write(body + struct.pack("<I", zlib.crc32(body)))


def fan_in(name, dims, by_name):
    if name.endswith(".b"):
        w = by_name.get(name[:-2] + ".w")
        return fan_in(name[:-2] + ".w", w, by_name) if w else None
    if len(dims) == 4:
        return dims[1] * dims[2] * dims[3]
    return dims[0] if len(dims) == 2 else None


def rows_of(name, dims, a):
    """the units as rows: conv filters [O, C kh kw]; dense units (dlc's columns) [units, in]"""
    if len(dims) == 4:
        return a.reshape(dims[0], -1)
    if len(dims) == 2:
        return a.reshape(dims).T
    return None

# ---- statistics (all as z-scores) ----


def chi2_z(x, dof):
    """Wilson-Hilferty: a chi-square value as a standard normal"""
    return ((x / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))


def p_to_z(p):
    """an upper-tail p-value as z (bisection on erfc; |z| at most about 37)"""
    p = min(max(p, 1e-300), 1 - 1e-16)
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > p:
            lo = mid
        else:
            hi = mid
    return lo


def ks_p(d, n):
    """Kolmogorov's asymptotic p-value of sqrt(n) D (with Stephens' small-n correction)"""
    t = d * (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n))
    if t < 0.2:
        return 1.0
    return max(0.0, min(1.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * t * t)
                                      for k in range(1, 101))))


def corr(x, y):
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / math.sqrt((x * x).sum() * (y * y).sum()))


def lag_corr(x, y, lag):
    if lag < 0:
        return lag_corr(y, x, -lag)
    n = min(len(x), len(y) - lag)
    return corr(x[:n], y[lag:lag + n]), n


def expected_duplicate_pairs(f32, b):
    """E[pairs of equal f32 values] for n draws of U(-b, b) rounded to f32: C(n, 2) E[ulp]/2b"""
    n = len(f32)
    sample = np.random.default_rng(0).uniform(-b, b, 200000).astype(np.float32)
    return n * (n - 1) / 2 * float(np.spacing(np.abs(sample)).astype(np.float64).mean()) / (2 * b)


def duplicate_pairs(f32):
    _, counts = np.unique(f32, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def poisson_z(k, lam):
    """a Poisson count k of mean lam as z: from the upper tail P(K >= k) when k > lam, else from
    the lower tail P(K <= k); 0 when that tail holds more than half (a count of 0 or 1 when
    lam is tiny), so for rare events its rms stays under 1. Tails summed in log space."""
    if lam <= 0:
        return 0.0 if k == 0 else 99.0
    def tail(lo, hi):  # P(lo <= K <= hi)
        j = np.arange(lo, hi + 1, dtype=np.float64)
        logs = -lam + j * math.log(lam) - np.array([math.lgamma(v + 1) for v in j])
        top = logs.max()
        return math.exp(top) * float(np.exp(logs - top).sum())
    if k > lam:
        p = tail(k, int(k + 50 + 20 * math.sqrt(lam + k)))
        return max(0.0, p_to_z(max(p, 1e-300)))
    return min(0.0, -p_to_z(max(tail(0, k), 1e-300)))


def var_of_var(b, n):
    """Var of the unbiased sample variance of n draws of U(-b, b): (mu4 - s^4 (n-3)/(n-1)) / n"""
    return (b ** 4 / 5 - b ** 4 / 9 * (n - 3) / (n - 1)) / n


def r2_z(r, length):
    """the sum of squared Pearson correlations of independent series of that length (r^2 ~
    Beta(1/2, (length-2)/2): mean 1/(length-1), var 2(length-2)/((length+1)(length-1)^2))"""
    mean = 1 / (length - 1)
    var = 2 * (length - 2) / ((length + 1) * (length - 1) ** 2)
    return float(((r * r).sum() - len(r) * mean) / math.sqrt(len(r) * var))


def tensor_stats(a, f32, b):
    n = len(a)
    z = {}
    z["mean"] = a.mean() / (b / math.sqrt(3 * n))
    z["var"] = (a.var(ddof=1) - b * b / 3) / math.sqrt(var_of_var(b, n))
    # (n+1) gap / 2b ~ Exp(1): upper-tail p of the smallest gap, as z (a too small gap: a
    # value beyond the bound; a too large one: the bound not reached)
    lo_gap, hi_gap = (a.min() + b) / (2 * b), (b - a.max()) / (2 * b)
    z["min_gap"] = p_to_z(math.exp(-n * max(lo_gap, 0))) if lo_gap >= 0 else 99.0
    z["max_gap"] = p_to_z(math.exp(-n * max(hi_gap, 0))) if hi_gap >= 0 else 99.0
    u = np.sort((a + b) / (2 * b))
    d = max(float((np.arange(1, n + 1) / n - u).max()), float((u - np.arange(n) / n).max()))
    z["ks"] = p_to_z(ks_p(d, n))
    k = int(min(64, max(4, n // 10)))
    counts = np.histogram(u, bins=k, range=(0, 1))[0]
    z["chi2_64"] = chi2_z(float(((counts - n / k) ** 2).sum() / (n / k)), k - 1)
    for lag in range(1, 9):
        r, m = lag_corr(a, a, lag)
        z[f"lag{lag}"] = r * math.sqrt(m)
    if n >= 2560:
        low = (f32.view(np.uint32) & 0xFF).astype(np.int64)
        c = np.bincount(low, minlength=256)
        z["low8bits"] = chi2_z(float(((c - n / 256) ** 2).sum() / (n / 256)), 255)
    z["dup_f32"] = poisson_z(duplicate_pairs(f32), expected_duplicate_pairs(f32, b))
    return z


def row_stats(rows, b):
    m, L = rows.shape
    z = {}
    if m >= 2 and L >= 8:
        c = np.corrcoef(rows)
        iu = np.triu_indices(m, 1)
        r = c[iu]
        z["row_r2"] = r2_z(r, L)
        # rms of the per-row means and variances against independent rows
        mu = rows.mean(1) / (b / math.sqrt(3 * L))
        z["row_means"] = chi2_z(float((mu * mu).sum()), m)
        v = (rows.var(1, ddof=1) - b * b / 3) / math.sqrt(var_of_var(b, L))
        z["row_vars"] = chi2_z(float((v * v).sum()), m)
        cols = rows.T  # the other axis: inputs of a unit / weights of an input across units
        if cols.shape[0] >= 2 and m >= 8:
            cc = np.corrcoef(cols)[np.triu_indices(cols.shape[0], 1)]
            z["col_r2"] = r2_z(cc, m)
    return z


def cross_stats(a, b_):
    """correlation of two streams (a, b_: name, values / bound, f32; first min(n) elements) at
    lags -4..4, and the f32 values they share against the count independent draws share"""
    z = {}
    for lag in range(-4, 5):
        r, m = lag_corr(a[1], b_[1], lag)
        if m >= 16:
            z[f"x_lag{lag}"] = r * math.sqrt(m)
    z["x_shared"] = poisson_z(len(np.intersect1d(a[2], b_[2])), expected_shared(a, b_))
    return z


def expected_shared(a, b_):
    """E[distinct f32 values in both] ~ n_a n_b E_a[1{|x| < b_b} ulp(x) / 2 b_b] (rare hits)"""
    ba, bb = bound_of(a), bound_of(b_)
    x = np.random.default_rng(1).uniform(-ba, ba, 200000).astype(np.float32)
    inside = np.abs(x) < bb
    per = float((np.spacing(np.abs(x)).astype(np.float64) * inside).mean()) / (2 * bb)
    return len(a[2]) * len(b_[2]) * per


def bound_of(t):
    """the bound b of a tensor from its values and their scaled copy (values / b)"""
    i = int(np.argmax(np.abs(t[1])))
    return float(abs(t[2][i]) / abs(t[1][i]))

# ---- report ----


def check_file(path, summary):
    tensors = read_dlw(path)
    by_name = {t[0]: t[1] for t in tensors}
    print(f"== {path}")
    print(f"{'tensor':16} {'n':>7} {'bound':>9} {'mean':>10} {'std':>9} {'std th':>9} "
          f"{'min':>9} {'max':>9}")
    norm = []
    for name, dims, a, f32 in tensors:
        fi = fan_in(name, dims, by_name)
        if not fi:
            continue
        b = 1 / math.sqrt(fi)
        print(f"{name:16} {len(a):7} {b:9.5f} {a.mean():10.2e} {a.std():9.5f} "
              f"{b / math.sqrt(3):9.5f} {a.min():9.5f} {a.max():9.5f}")
        z = tensor_stats(a, f32, b)
        rows = rows_of(name, dims, a)
        if rows is not None:
            z.update(row_stats(rows, b))
        report_z(name, z, summary)
        norm.append((name, a / b, f32))
    for i in range(len(norm)):
        for j in range(i + 1, len(norm)):
            z = cross_stats(norm[i], norm[j])
            report_z(f"{norm[i][0]}~{norm[j][0]}", z, summary, key="x_pairs")
    return norm


def report_z(label, z, summary, key=None):
    flagged = {k: v for k, v in z.items() if abs(v) > FLAG}
    worst = max(z.items(), key=lambda kv: abs(kv[1]))
    print(f"  {label:40} {len(z):3} tests, largest |z| {abs(worst[1]):5.2f} ({worst[0]})"
          + (f"  FLAGGED {flagged}" if flagged else ""))
    for k, v in z.items():
        summary.setdefault((key or label, k if key is None else k), []).append(v)


def print_summary(summary, files):
    print(f"== summary over {files} file(s): mean and rms of each z (0 and 1 expected)")
    for (label, k), vs in sorted(summary.items()):
        v = np.array(vs)
        rms = math.sqrt(float((v * v).mean()))
        mark = "  <--" if abs(v.mean()) * math.sqrt(len(v)) > FLAG or rms > 2 else ""
        print(f"  {label:16} {k:10} n={len(v):3} mean {v.mean():6.2f} rms {rms:5.2f}{mark}")


def across_files(per_file, summary):
    for i in range(len(per_file)):
        for j in range(i + 1, len(per_file)):
            for ta, tb in zip(per_file[i], per_file[j]):
                z = cross_stats(ta, tb)
                for k, v in z.items():
                    summary.setdefault(("seed_pairs", k), []).append(v)

# ---- dlc's generator, replayed (runtime/dlrt_rng.c, runtime/dlrt_session.c) ----


M64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


def xoshiro_words(seed, n):
    s, x = [], seed & M64
    for _ in range(4):
        x, v = splitmix64(x)
        s.append(v)
    out = []
    for _ in range(n):
        out.append((rotl((s[1] * 5) & M64, 7) * 9) & M64)
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def replay(seed, path):
    """dlc's draw of each tensor of path from seed (tensor index = table order) against the file"""
    tensors = read_dlw(path)
    by_name = {t[0]: t[1] for t in tensors}
    ok = True
    for i, (name, dims, a, f32) in enumerate(tensors):
        fi = fan_in(name, dims, by_name)
        if not fi:
            continue
        b = 1 / math.sqrt(fi)
        words = xoshiro_words(seed * 1000003 + i, len(a))
        mine = np.array([-b + 2 * b * ((w >> 11) * 2.0 ** -53) for w in words]).astype(np.float32)
        same = int((mine == f32).sum())
        print(f"{name:16} {same}/{len(a)} bit-identical")
        ok &= same == len(a)
    return ok


def raw_words(seed, n_tensors=8, n=200000):
    """bit-level tests of the raw 64-bit words of each per-tensor stream, and of the streams'
    first words against each other (seed * 1000003 + i)"""
    streams = [np.array(xoshiro_words(seed * 1000003 + i, n), dtype=np.uint64)
               for i in range(n_tensors)]
    for i, w in enumerate(streams):
        bits = np.stack([((w >> np.uint64(k)) & np.uint64(1)).astype(np.float64)
                         for k in range(64)])
        zb = (bits.sum(1) - n / 2) / math.sqrt(n / 4)
        zl = [corr(bits[k, :-1], bits[k, 1:]) * math.sqrt(n - 1) for k in range(64)]
        low = (w & np.uint64(0xFF)).astype(np.int64)
        c = np.bincount(low, minlength=256)
        zc = chi2_z(float(((c - n / 256) ** 2).sum() / (n / 256)), 255)
        print(f"stream {i} (seed {seed * 1000003 + i}): bit balance max |z| {np.abs(zb).max():.2f}"
              f", bit lag-1 max |z| {np.max(np.abs(zl)):.2f}, low byte chi2 z {zc:.2f}")
    for i in range(n_tensors):
        for j in range(i + 1, n_tensors):
            x = streams[i] ^ streams[j]
            ham = np.array([bin(int(v)).count("1") for v in x[:20000]], dtype=np.float64)
            zh = (ham.mean() - 32) / math.sqrt(16 / len(ham))
            if abs(zh) > 3:
                print(f"streams {i},{j}: xor popcount z {zh:.2f}")
    print("stream pairs: xor popcount of the first 20000 words checked (|z| > 3 printed)")

# ---- torch's draw ----


def torch_draw(seed, out):
    import torch
    torch.manual_seed(seed)
    layers = [("enc.conv1", torch.nn.Conv2d(1, 32, 3)), ("enc.conv2", torch.nn.Conv2d(32, 64, 3)),
              ("enc.dense1", torch.nn.Linear(1600, 128)), ("enc.dense2", torch.nn.Linear(128, 64))]
    tensors = []
    for name, layer in layers:
        w = layer.weight.detach().numpy()
        tensors.append((name + ".w", w.T if w.ndim == 2 else w))
        tensors.append((name + ".b", layer.bias.detach().numpy()))
    write_dlw(out, tensors)


def main(argv):
    if argv[:1] == ["--torch"]:
        return torch_draw(int(argv[1]), argv[2])
    if argv[:1] == ["--replay"]:
        return 0 if replay(int(argv[1]), argv[2]) else 1
    if argv[:1] == ["--raw"]:
        return raw_words(int(argv[1]))
    summary, per_file = {}, []
    for path in argv:
        per_file.append(check_file(path, summary))
    across_files(per_file, summary)
    print_summary(summary, len(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
