#!/usr/bin/env python3
"""torch_reference.py — PyTorch reference values for dlc's ops, losses, optimizers and schedules.

Writes tests/reference/*.json. tests/reference/check_reference.c (a ctest, no Python) compiles
each case's .dl source with dlc, sets the parameters and inputs stored here, and compares what
dlc computes with what PyTorch computed:

  eval cases   the forward output (the model's last value), the loss, and the gradient of the
               loss with respect to every parameter. Ops are applied to a free parameter
               (`variable(...)` in the language) so its gradient is the op's backward;
               the loss is mse(op(x), t) against a second free parameter t, so the upstream
               gradient 2 (op(x) - t) / N is random, not all ones.
  train cases  20 steps of an optimizer (with a learning-rate schedule, one step per epoch) on
               a fixed small problem: the learning rate and the loss of every step and all
               parameters after every step.

Every case states its tolerance: |dlc - torch| <= rtol * max(|torch|, floor), with rtol 1e-5
unless a reason is given next to a looser one.

Requirements: PyTorch (Debian's python3-torch, for /usr/bin/python3: `tools/setup.sh
--reference-tools` installs it). Only this script needs it; the test suite reads the JSON.
Run from anywhere:  /usr/bin/python3 tools/torch_reference.py   (then review the diff)
The output is deterministic for a given PyTorch version: every tensor comes from its own seeded
generator, computation is float32 on the CPU with one thread, and numbers are written as the
shortest decimal that reads back as the same float32.

Files, by the dlc feature they need (ctest runs every file as reference.NAME):
  ops.json            relu sigmoid tanh softmax exp log sqrt, + - * / and negation, dense
  losses.json         cross_entropy, mse
  optimizers.json     sgd (momentum, nesterov, weight_decay), adam (betas, eps, weight_decay)
  schedules.json      constant, step, exponential, cosine
  activations.json    leaky_relu prelu elu selu silu swish mish gelu softplus log_softmax
  reductions.json     sum, mean
  losses_more.json    mae (l1), smooth_l1, huber, cross_entropy(label_smoothing, reduction), nll,
                      bce, bce_with_logits, hinge, reduction = sum
  optimizers_more.json  sgd dampening, rmsprop, adagrad, adam amsgrad, adamw
  warmup.json         warmup = K or linear(K, start_factor = s): LinearLR before a schedule
  regularization.json regularize = [l1(...), l2(...)], clip_value, clip_norm
  pool.json           max_pool2d, avg_pool2d (kernel, stride, padding), global_avg_pool, concat
  batchnorm.json      batchnorm over [B, C] and [B, C, H, W]: training-mode forward and
                      backward; running statistics after steps, and the evaluation output
  conv.json           conv2d (stride, padding incl. same, dilation, groups, bias), flatten
  ops1.json           abs, square, clamp(x, min, max) with either bound, matmul, transpose,
                      slice, one_hot, constant(v), full(dims, v), literal lists (issue 13 ops1)
  ops2.json           sum/mean/max(x, axis), norm, pairwise_distance, cosine_similarity,
                      greater less greater_equal less_equal equal not_equal, where, the
                      contrastive (Caffe's) and triplet (TripletMarginLoss) losses
"""
import json
import math
import os
import struct
import sys
import warnings

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "reference")
STEPS = 20

# The default criterion. floor: values are generated at scale ~1 (inputs N(0, 1), weights up
# to 1/sqrt(fan_in)) and every value is formed from such terms: a dense output of K <= 8 inputs
# plus a bias, a gradient summed over a batch of 8, a window of a pool. Rounding leaves an
# absolute error set by the size of the TERMS, not of the result: |fl(sum) - sum| <=
# gamma(n) sum |terms|, about u = 6e-8 per rounding at scale 1 (a sum that cancels to 0.002
# keeps it). dlc and torch round in different orders, and dlc's order depends on the GEMM
# kernel OpenBLAS picks for the CPU (with FMA or not: tools/numeric_kernels.sh); the floor 0.01
# makes the absolute criterion rtol * floor = 1e-7, two roundings at the terms' scale, which
# the first floor (1e-3, 1e-8 absolute: below one rounding) was not: a dense output of
# 0.0022 differed by 7e-8 on the SSE/AVX kernels (no FMA). Above the floor rtol 1e-5 stays.
TOL = {"rtol": 1e-5, "floor": 1e-2}
# in_float64's cases keep the first floor: their measured distance (the switch to a float64
# reference is refused below 5e-6) was taken with it
FLOAT64_FLOOR = 1e-3

# Trajectories: a parameter after k steps is its start value (|w| up to 1/sqrt(3) = 0.58, the
# nn.Linear init) plus k updates, so float32 rounding at that magnitude (3e-8 per operation)
# stays in every entry, however close to zero it ends: the floor is 0.01 (absolute 1e-7, a few
# float32 ulps of the starting weights), the relative criterion 1e-5 is unchanged.
TRAJECTORY_FLOOR = 0.01
TRAJECTORY_FLOOR_REASON = ("floor 0.01: entries are start values of up to 0.58 plus updates, "
                           "so float32 rounding at that scale stays in entries near zero")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
# SequentialLR passes an epoch to scheduler.step(), which this torch version warns about
warnings.filterwarnings("ignore", message="The epoch parameter")


# ---- numbers ----

def f32(v):
    """The shortest decimal that reads back as the same float32, as a Python float."""
    v = struct.unpack("f", struct.pack("f", float(v)))[0]
    if math.isnan(v) or math.isinf(v):
        raise ValueError("non-finite reference value")
    for digits in range(6, 10):
        s = "%.*g" % (digits, v)
        if struct.unpack("f", struct.pack("f", float(s)))[0] == v:
            return float(s)
    return v


def flat(t):
    """A tensor as a flat row-major list of float32 values (ints stay ints)."""
    t = t.detach().contiguous().view(-1)
    if t.dtype in (torch.int32, torch.int64):
        return [int(v) for v in t.tolist()]
    return [f32(v) for v in t.tolist()]


class Rand:
    """Seeded tensors: each call draws from its own generator, so adding a case changes no other."""

    def __init__(self, seed):
        self.seed = seed
        self.k = 0

    def gen(self):
        self.k += 1
        return torch.Generator().manual_seed(self.seed * 1000 + self.k)

    def normal(self, *shape, scale=1.0):
        return torch.randn(shape, generator=self.gen()) * scale

    def uniform(self, lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(shape, generator=self.gen())

    def away_from_zero(self, *shape, lo=0.3, hi=1.5):
        """Magnitudes in [lo, hi), random signs: off the kinks and poles."""
        sign = torch.randint(0, 2, shape, generator=self.gen()) * 2 - 1
        return sign * self.uniform(lo, hi, *shape)

    def labels(self, n, classes):
        return torch.randint(0, classes, (n,), generator=self.gen(), dtype=torch.int64)


def seed_of(name):
    """A stable seed per case name (Python's hash() is salted per process)."""
    h = 2166136261
    for ch in name.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h % 100000


# ---- cases ----

def tolerance(rtol=None, floor=None, reason=None):
    t = dict(TOL)
    if rtol is not None:
        t["rtol"] = rtol
    if floor is not None:
        t["floor"] = floor
    if reason:
        t["reason"] = reason
    return t


def in_float64(why, rtol=None):
    """The tolerance of an eval case whose reference is torch in float64 (rounded to float32),
    because torch's own float32 result is not within 1e-5 of it (`why` says where the digits
    go): eval_case measures that distance, refuses the switch unless it exceeds 5e-6, and
    states it. rtol stays 1e-5 unless given (with a reason in `why`)."""
    return {"rtol": rtol or TOL["rtol"], "floor": FLOAT64_FLOOR, "float64": why}


def run_eval(params, inputs, forward, dtype):
    """(output, loss, grads) of forward in dtype, as float64 tensors"""
    leaves = {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in params.items()}
    inputs = {k: v.to(dtype) if v.is_floating_point() else v for k, v in inputs.items()}
    output, loss = forward(leaves, inputs)
    loss.backward()
    return (output.detach().double(), loss.detach().double(),
            {k: v.grad.double() for k, v in leaves.items()})


def distance(a, b, floor):
    """the worst |a - b| / max(|b|, floor) over two (output, loss, grads) results"""
    pairs = [(a[0], b[0]), (a[1], b[1])] + [(a[2][k], b[2][k]) for k in a[2]]
    return max(((x - y).abs() / y.abs().clamp(min=floor)).max().item() for x, y in pairs)


def eval_case(name, source, params, inputs, forward, tol=None):
    """forward(params, inputs) -> (output, loss); params are the leaves to differentiate."""
    tol = dict(tol or tolerance())
    ref = run_eval(params, inputs, forward, torch.float32)
    why = tol.pop("float64", None)
    if why:
        ref64 = run_eval(params, inputs, forward, torch.float64)
        err = distance(ref, ref64, tol["floor"])
        assert err > TOL["rtol"] / 2, f"{name}: torch float32 is {err:.1e} from float64"
        tol["reason"] = (f"reference computed in float64: torch's float32 result is {err:.1e} "
                         f"(relative, floor {tol['floor']}) from it; {why}")
        ref = ref64
    output, loss, grads = ref
    return {
        "name": name,
        "kind": "eval",
        "source": source,
        "tolerance": tol,
        "params": {k: flat(v) for k, v in params.items()},
        "inputs": {k: flat(v) for k, v in inputs.items()},
        "output": flat(output.float()),
        "loss": f32(loss.item()),
        "grads": {k: flat(v.float()) for k, v in grads.items()},
    }


def ill_conditioned(rtol):
    """The tolerance of a trajectory that float32 cannot follow to 1e-5: train_case measures
    how far torch's own float32 trajectory is from its float64 one, refuses the loosening
    unless that exceeds 1e-5 and rtol is at least twice it, and states the measurement. (Adaptive
    steps g / sqrt(v) turn the rounding of a gradient that cancels to near zero into a
    relative error of the step, which momentum carries on.) The reference stays torch's
    float32 trajectory: dlc does the same arithmetic and usually agrees with it far better
    than either agrees with float64."""
    return {"rtol": rtol, "floor": TRAJECTORY_FLOOR, "ill_conditioned": True}


def run_steps(params, inputs, loss_fn, make_opt, make_sched, clip, dtype):
    """STEPS steps in dtype: (lrs, losses, trajectory as float64 tensors)"""
    leaves = {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in params.items()}
    inputs = {k: v.to(dtype) if v.is_floating_point() else v for k, v in inputs.items()}
    opt = make_opt(list(leaves.values()))
    sched = make_sched(opt) if make_sched else None
    lrs, losses, trajectory = [], [], []
    for _ in range(STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        loss = loss_fn(leaves, inputs)
        loss.backward()
        if clip:
            clip(list(leaves.values()))
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
        trajectory.append({k: v.detach().double().clone() for k, v in leaves.items()})
    return lrs, losses, trajectory


def float32_error(params, inputs, loss_fn, make_opt, make_sched, clip, floor):
    """the worst relative distance of torch's float32 trajectory from its float64 one"""
    _, _, t32 = run_steps(params, inputs, loss_fn, make_opt, make_sched, clip, torch.float32)
    _, _, t64 = run_steps(params, inputs, loss_fn, make_opt, make_sched, clip, torch.float64)
    return max(((a[k] - b[k]).abs() / b[k].abs().clamp(min=floor)).max().item()
               for a, b in zip(t32, t64) for k in a)


def train_case(name, source, params, inputs, loss_fn, make_opt, make_sched=None, tol=None,
               clip=None):
    """STEPS optimizer steps, one per epoch; the schedule (if any) steps after each;
    clip(list of parameters) runs between backward and the step."""
    lrs, losses, traj = run_steps(params, inputs, loss_fn, make_opt, make_sched, clip, torch.float32)
    losses = [f32(v) for v in losses]
    trajectory = [{k: flat(v.float()) for k, v in step.items()} for step in traj]
    tol = dict(tol or tolerance(floor=TRAJECTORY_FLOOR, reason=TRAJECTORY_FLOOR_REASON))
    if tol.pop("ill_conditioned", False):
        err = float32_error(params, inputs, loss_fn, make_opt, make_sched, clip, tol["floor"])
        assert TOL["rtol"] < err <= tol["rtol"] / 2, f"{name}: float32 error {err:.1e}, rtol {tol['rtol']}"
        tol["reason"] = (f"ill-conditioned in float32: torch's own float32 trajectory is {err:.1e} "
                         f"(relative, floor {tol['floor']}) from its float64 one; " + TRAJECTORY_FLOOR_REASON)
    return {
        "name": name,
        "kind": "train",
        "source": source,
        "tolerance": tol,
        "params": {k: flat(v) for k, v in params.items()},
        "inputs": {k: flat(v) for k, v in inputs.items()},
        "steps": STEPS,
        "lr": [float(v) for v in lrs],
        "losses": losses,
        "trajectory": trajectory,
    }


def dense_init(r, fan_in, units):
    """nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in dlc's [in, units] layout."""
    bound = 1 / math.sqrt(fan_in)
    return r.uniform(-bound, bound, fan_in, units), r.uniform(-bound, bound, units)


# ---- ops: op(x) on free parameters, loss = mse(op(x), t) ----

def unary_source(call, rows, cols):
    return (f'model m {{\n  x = variable({rows}, {cols}, name = "x")\n'
            f'  t = variable({rows}, {cols}, name = "t")\n  y = {call}\n}}\n'
            f'train m {{\n  loss = mse(y, t)\n}}\n')


def unary(name, call, fn, x=None, rows=4, cols=5, tol=None):
    r = Rand(seed_of(name))
    x = r.normal(rows, cols) if x is None else x(r, rows, cols)
    params = {"x": x, "t": r.normal(rows, cols)}
    return eval_case(name, unary_source(call, rows, cols), params, {},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(fn(p["x"])), tol)


def binary(name, expr, fn, a_shape, b_shape, b_domain=None):
    r = Rand(seed_of(name))
    out_shape = torch.broadcast_shapes(a_shape, b_shape)
    dims = lambda s: ", ".join(str(d) for d in s)
    source = (f'model m {{\n  a = variable({dims(a_shape)}, name = "a")\n'
              f'  b = variable({dims(b_shape)}, name = "b")\n'
              f'  t = variable({dims(out_shape)}, name = "t")\n  y = {expr}\n}}\n'
              f'train m {{\n  loss = mse(y, t)\n}}\n')
    b = r.normal(*b_shape) if b_domain is None else b_domain(r, *b_shape)
    params = {"a": r.normal(*a_shape), "b": b, "t": r.normal(*out_shape)}
    return eval_case(name, source, params, {},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(fn(p["a"], p["b"])))


def positive(r, *shape):
    return r.uniform(0.2, 3.0, *shape)


def off_kink(r, *shape):
    return r.away_from_zero(*shape, lo=0.05, hi=2.0)


def ops_cases():
    cases = [
        unary("relu", "relu(x)", torch.relu, x=off_kink),
        unary("sigmoid", "sigmoid(x)", torch.sigmoid, x=lambda r, *s: r.normal(*s, scale=3)),
        unary("tanh", "tanh(x)", torch.tanh, x=lambda r, *s: r.normal(*s, scale=2)),
        unary("softmax", "softmax(x)", lambda x: torch.softmax(x, -1),
              x=lambda r, *s: r.normal(*s, scale=3)),
        unary("softmax_wide_range", "softmax(x)", lambda x: torch.softmax(x, -1),
              x=lambda r, *s: r.normal(*s, scale=30), rows=3, cols=7),
        unary("exp", "exp(x)", torch.exp),
        unary("log", "log(x)", torch.log, x=positive),
        unary("sqrt", "sqrt(x)", torch.sqrt, x=positive),
        unary("neg", "-x", torch.neg),
        unary("scalar_mul", "x * 2.5", lambda x: x * 2.5),
        unary("scalar_rsub", "3 - x", lambda x: 3 - x),
        unary("scalar_rdiv", "1 / x", lambda x: 1 / x, x=lambda r, *s: r.away_from_zero(*s)),
        unary("composite", "sqrt(exp(x) + 1) * tanh(x) - log(sigmoid(x)) / 2",
              lambda x: torch.sqrt(torch.exp(x) + 1) * torch.tanh(x) - torch.log(torch.sigmoid(x)) / 2),
        binary("add", "a + b", torch.add, (4, 5), (4, 5)),
        binary("sub", "a - b", torch.sub, (4, 5), (4, 5)),
        binary("mul", "a * b", torch.mul, (4, 5), (4, 5)),
        binary("div", "a / b", torch.div, (4, 5), (4, 5), b_domain=lambda r, *s: r.away_from_zero(*s)),
        binary("add_broadcast_row", "a + b", torch.add, (4, 5), (5,)),
        binary("mul_broadcast_row", "a * b", torch.mul, (4, 5), (5,)),
        binary("div_broadcast_row", "a / b", torch.div, (4, 5), (5,),
               b_domain=lambda r, *s: r.away_from_zero(*s)),
        binary("sub_broadcast_left", "b - a", lambda a, b: b - a, (3, 4, 5), (4, 5)),
        dense_on_variable("dense", bias=True),
        dense_on_variable("dense_no_bias", bias=False),
        batched_mlp(),
    ]
    return cases


def dense_on_variable(name, bias):
    r = Rand(seed_of(name))
    w, b = dense_init(r, 6, 5)
    params = {"x": r.normal(4, 6), "fc.w": w}
    if bias:
        params["fc.b"] = b
    params["t"] = r.normal(4, 5)
    kw = "" if bias else ", bias = 0"
    source = (f'model m {{\n  x = variable(4, 6, name = "x")\n  t = variable(4, 5, name = "t")\n'
              f'  y = dense(x, 5, name = "fc"{kw})\n}}\ntrain m {{\n  loss = mse(y, t)\n}}\n')

    def fwd(p, i):
        y = p["x"] @ p["fc.w"] + (p["fc.b"] if bias else 0)
        return y, F.mse_loss(y, p["t"])
    return eval_case(name, source, params, {}, fwd)


def batched_mlp():
    name = "mlp_batched"
    r = Rand(seed_of(name))
    w1, b1 = dense_init(r, 6, 5)
    w2, b2 = dense_init(r, 5, 4)
    params = {"l1.w": w1, "l1.b": b1, "l2.w": w2, "l2.b": b2}
    inputs = {"x": r.normal(8, 6), "t": r.uniform(0, 1, 8, 4)}
    source = ('model m {\n  input x: f32[6]\n  input t: f32[4]\n'
              '  h = tanh(dense(x, 5, name = "l1"))\n  y = softmax(dense(h, 4, name = "l2"))\n}\n'
              'train m {\n  loss = mse(y, t)\n  batch = 8\n}\n')

    def fwd(p, i):
        y = torch.softmax(torch.tanh(i["x"] @ p["l1.w"] + p["l1.b"]) @ p["l2.w"] + p["l2.b"], -1)
        return y, F.mse_loss(y, i["t"])
    return eval_case(name, source, params, inputs, fwd)


# ---- new activations and reductions (op applied to a free parameter) ----

def activations_cases():
    wide = lambda r, *s: r.normal(*s, scale=3)
    # prelu: one learned slope per feature of a batch [B, C], as nn.PReLU(C); a free offset b
    # before it carries the gradient with respect to prelu's input back (summed over the batch)
    prelu_name = "prelu"
    r = Rand(seed_of(prelu_name))
    prelu = eval_case(
        prelu_name,
        'model m {\n  input x: f32[5]\n  input t: f32[5]\n  b = variable(5, name = "b")\n'
        '  y = prelu(x + b, name = "act")\n}\ntrain m {\n  loss = mse(y, t)\n  batch = 8\n}\n',
        {"b": r.normal(5, scale=0.1), "act.slope": r.uniform(0.05, 0.5, 5)},
        {"x": r.away_from_zero(8, 5, lo=0.2, hi=2.0), "t": r.normal(8, 5)},
        lambda p, i: (lambda y: (y, F.mse_loss(y, i["t"])))(F.prelu(i["x"] + p["b"], p["act.slope"])))
    return [
        unary("leaky_relu", "leaky_relu(x)", F.leaky_relu, x=off_kink),
        unary("leaky_relu_slope", "leaky_relu(x, 0.2)", lambda x: F.leaky_relu(x, 0.2), x=off_kink),
        prelu,
        unary("elu", "elu(x)", F.elu, x=wide),
        unary("elu_alpha", "elu(x, 0.5)", lambda x: F.elu(x, 0.5), x=wide),
        unary("selu", "selu(x)", F.selu, x=wide),
        unary("silu", "silu(x)", F.silu, x=wide),
        unary("swish", "swish(x)", F.silu, x=wide),
        unary("mish", "mish(x)", F.mish, x=wide),
        unary("gelu", "gelu(x)", F.gelu, x=wide,
              tol=in_float64("torch's float32 gelu computes x * (1 + erf(x / sqrt 2)) / 2, which "
                             "cancels for x < -2")),
        unary("softplus", "softplus(x)", F.softplus, x=wide),
        unary("softplus_threshold", "softplus(x)", F.softplus,
              x=lambda r, *s: r.uniform(-30, 30, *s)),
        unary("softplus_beta_threshold", "softplus(x, beta = 2, threshold = 5)",
              lambda x: F.softplus(x, beta=2, threshold=5), x=lambda r, *s: r.uniform(-6, 6, *s)),
        unary("log_softmax", "log_softmax(x)", lambda x: F.log_softmax(x, -1), x=wide),
        unary("log_softmax_wide_range", "log_softmax(x)", lambda x: F.log_softmax(x, -1),
              x=lambda r, *s: r.normal(*s, scale=30),
              tol=in_float64("torch's float32 log_softmax of a row's largest element is "
                             "-log(1 + tiny) with the sum rounded to float32 (steps of 1.2e-7)")),
    ]


def reduction(name, call, fn):
    r = Rand(seed_of(name))
    source = (f'model m {{\n  x = variable(4, 5, name = "x")\n  t = variable(name = "t")\n'
              f'  y = {call}\n}}\ntrain m {{\n  loss = mse(y, t)\n}}\n')
    params = {"x": r.normal(4, 5), "t": r.normal()}
    return eval_case(name, source, params, {},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(fn(p["x"])))


def reductions_cases():
    return [
        reduction("sum", "sum(x)", torch.sum),
        reduction("mean", "mean(x)", torch.mean),
        reduction("sum_of_product", "sum(x * exp(x))", lambda x: torch.sum(x * torch.exp(x))),
        batched_reduction("sum_batched", "sum", torch.sum),
        batched_reduction("mean_batched", "mean", torch.mean),
    ]


def batched_reduction(name, fn_name, fn):
    """a reduction over a batch: fn(tanh(x * w)) for an input x [8, 5] and a free w [5]"""
    r = Rand(seed_of(name))
    source = (f'model m {{\n  input x: f32[5]\n  w = variable(5, name = "w")\n'
              f'  t = variable(name = "t")\n  y = {fn_name}(tanh(x * w))\n}}\n'
              f'train m {{\n  loss = mse(y, t)\n  batch = 8\n}}\n')
    params = {"w": r.normal(5), "t": r.normal()}
    return eval_case(name, source, params, {"x": r.normal(8, 5)},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(fn(torch.tanh(i["x"] * p["w"]))))


# ---- issue 13 ops2: axis reductions, distances, comparisons and where, metric losses ----

def batched_case(name, decls, body, loss, inputs, params, fwd, tol=None):
    """a model over batched inputs (decls: `input NAME: f32[...]` lines; inputs: their values
    for a batch of 8) and free parameters (params: name -> shape, drawn N(0, 1)); body ends
    with the model's output y; loss is the train block's loss expression; fwd(p, i) -> (y, loss)"""
    r = Rand(seed_of(name))
    values = {k: f(r) for k, f in inputs.items()}
    pvals = {k: r.normal(*s) for k, s in params.items()}
    pdecl = "".join(f'  {k} = variable({dims_of(s)}, name = "{k}")\n' for k, s in params.items())
    source = (f"model m {{\n{decls}{pdecl}{body}}}\n"
              f"train m {{\n  loss = {loss}\n  batch = 8\n}}\n")
    return eval_case(name, source, pvals, values, fwd, tol)


def ops2_cases():
    x = lambda f: (lambda p: f(p["x"]))
    mse_on = lambda y, t: (y, F.mse_loss(y, t))
    n8 = lambda *s: (lambda r: r.normal(8, *s))
    return [
        image_case("sum_axis", {"x": (3, 4, 5)}, "sum(x, 1)", x(lambda v: v.sum(1))),
        image_case("sum_axis_negative", {"x": (3, 4, 5)}, "sum(x, -1)", x(lambda v: v.sum(-1))),
        image_case("mean_axis", {"x": (3, 4, 5)}, "mean(x, axis = 0)", x(lambda v: v.mean(0))),
        image_case("max_axis", {"x": (3, 4, 5)}, "max(x, 2)", x(lambda v: v.max(2).values)),
        image_case("max_axis_first", {"x": (3, 4, 5)}, "max(x * 2, axis = 0)",
                   x(lambda v: (v * 2).max(0).values)),
        image_case("where_comparisons", {"a": (4, 5), "b": (4, 5)},
                   "where(greater(a, b), a * b, a - b) + less(a, 0) * 3 + greater_equal(b, 0.5) "
                   "+ less_equal(a, b) * a + equal(a, a) * 0.5 - not_equal(a, b) * b",
                   lambda p: (torch.where(p["a"] > p["b"], p["a"] * p["b"], p["a"] - p["b"])
                              + (p["a"] < 0).float() * 3 + (p["b"] >= 0.5).float()
                              + (p["a"] <= p["b"]).float() * p["a"] + 0.5 - (p["a"] != p["b"]).float() * p["b"])),
        batched_case("sum_axis_batched", "  input x: f32[4, 5]\n  input t: f32[5]\n",
                     "  y = mean(tanh(x * w), 1) + max(x * w, 1)\n", "mse(y, t)",
                     {"x": n8(4, 5), "t": n8(5)}, {"w": (4, 5)},
                     lambda p, i: mse_on((torch.tanh(i["x"] * p["w"])).mean(1)
                                         + (i["x"] * p["w"]).max(1).values, i["t"])),
        batched_case("norm", "  input x: f32[4, 5]\n  input t: f32[4]\n",
                     "  y = norm(x * w)\n", "mse(y, t)", {"x": n8(4, 5), "t": n8(4)}, {"w": (4, 5)},
                     lambda p, i: mse_on(torch.linalg.vector_norm(i["x"] * p["w"], dim=-1), i["t"])),
        batched_case("pairwise_distance", "  input x: f32[6]\n  input z: f32[6]\n  input t: f32[]\n",
                     "  y = pairwise_distance(x * w, z)\n", "mse(y, t)",
                     {"x": n8(6), "z": n8(6), "t": n8()}, {"w": (6,)},
                     lambda p, i: mse_on(F.pairwise_distance(i["x"] * p["w"], i["z"]), i["t"])),
        batched_case("cosine_similarity", "  input x: f32[6]\n  input z: f32[6]\n  input t: f32[]\n",
                     "  y = cosine_similarity(x * w, z)\n", "mse(y, t)",
                     {"x": n8(6), "z": n8(6), "t": n8()}, {"w": (6,)},
                     lambda p, i: mse_on(F.cosine_similarity(i["x"] * p["w"], i["z"], dim=-1), i["t"])),
        batched_case("contrastive", "  input x: f32[6]\n  input z: f32[6]\n  input same: f32[]\n",
                     "  y = pairwise_distance(x * w, z)\n", "contrastive(y, same, margin = 3)",
                     {"x": n8(6), "z": n8(6),
                      "same": lambda r: torch.tensor([1., 0., 0., 1., 0., 1., 0., 0.])},
                     {"w": (6,)}, contrastive_fwd),
        batched_case("triplet", "  input a: f32[6]\n  input pos: f32[6]\n  input neg: f32[6]\n",
                     "  y = a * w\n", "triplet(y, pos, neg, margin = 1)",
                     {"a": n8(6), "pos": n8(6), "neg": n8(6)}, {"w": (6,)},
                     lambda p, i: (i["a"] * p["w"], F.triplet_margin_loss(
                         i["a"] * p["w"], i["pos"], i["neg"], margin=1.0, p=2))),
    ]


def contrastive_fwd(p, i):
    """Caffe's ContrastiveLoss (legacy_version false) on distances: 1/(2N) sum of
    same d^2 + (1 - same) max(margin - d, 0)^2"""
    d = F.pairwise_distance(i["x"] * p["w"], i["z"])
    same = i["same"]
    terms = same * d ** 2 + (1 - same) * torch.clamp(3.0 - d, min=0) ** 2
    return d, terms.mean() / 2


# ---- losses: on a dense layer over a batch ----

def loss_case(name, loss_call, loss_fn, units, target, pred="dense(x, {u}, name = \"fc\")",
              pred_fn=lambda z: z, batch=8, features=6, scale=1.0, tol=None):
    """target: (declaration, tensor maker(r, batch, units)) for the model's input `y`."""
    r = Rand(seed_of(name))
    w, b = dense_init(r, features, units)
    decl, make_target = target
    inputs = {"x": r.normal(batch, features, scale=scale), "y": make_target(r, batch, units)}
    source = (f'model m {{\n  input x: f32[{features}]\n  input y: {decl}\n'
              f'  p = {pred.format(u=units)}\n}}\n'
              f'train m {{\n  loss = {loss_call}\n  batch = {batch}\n}}\n')

    def fwd(p, i):
        out = pred_fn(i["x"] @ p["fc.w"] + p["fc.b"])
        return out, loss_fn(out, i["y"])
    return eval_case(name, source, {"fc.w": w, "fc.b": b}, inputs, fwd, tol)


LABELS = ("i32[]", lambda r, n, c: r.labels(n, c))
REAL = lambda c: (f"f32[{c}]", lambda r, n, cc: r.normal(n, cc))


def losses_cases():
    return [
        loss_case("cross_entropy", "cross_entropy(p, y)", F.cross_entropy, 5, LABELS),
        loss_case("cross_entropy_large_logits", "cross_entropy(p, y)", F.cross_entropy, 5, LABELS,
                  scale=40.0),
        loss_case("mse", "mse(p, y)", F.mse_loss, 3, REAL(3)),
    ]


def losses_more_cases():
    probs = ("f32[3]", lambda r, n, c: r.uniform(0, 1, n, c))
    signs = ("f32[1]", lambda r, n, c: (torch.randint(0, 2, (n, c), generator=r.gen()) * 2 - 1).float())
    hinge = lambda s, y: torch.clamp(1 - y * s, min=0).mean()
    return [
        loss_case("mae", "mae(p, y)", F.l1_loss, 3, REAL(3)),
        loss_case("mae_sum", "mae(p, y, reduction = sum)", lambda a, b: F.l1_loss(a, b, reduction="sum"),
                  3, REAL(3)),
        loss_case("mse_sum", "mse(p, y, reduction = sum)", lambda a, b: F.mse_loss(a, b, reduction="sum"),
                  3, REAL(3)),
        loss_case("smooth_l1", "smooth_l1(p, y)", F.smooth_l1_loss, 3, REAL(3), scale=2.0),
        loss_case("smooth_l1_beta", "smooth_l1(p, y, beta = 0.5)",
                  lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), 3, REAL(3), scale=2.0),
        loss_case("smooth_l1_beta_zero", "smooth_l1(p, y, beta = 0)",
                  lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), 3, REAL(3), scale=2.0),
        loss_case("l1", "l1(p, y)", F.l1_loss, 3, REAL(3)),
        loss_case("huber", "huber(p, y)", F.huber_loss, 3, REAL(3), scale=2.0),
        loss_case("huber_delta", "huber(p, y, delta = 2)", lambda a, b: F.huber_loss(a, b, delta=2.0),
                  3, REAL(3), scale=3.0),
        loss_case("huber_sum", "huber(p, y, reduction = sum)",
                  lambda a, b: F.huber_loss(a, b, reduction="sum"), 3, REAL(3), scale=2.0),
        loss_case("cross_entropy_label_smoothing", "cross_entropy(p, y, label_smoothing = 0.1)",
                  lambda z, y: F.cross_entropy(z, y, label_smoothing=0.1), 5, LABELS),
        loss_case("cross_entropy_sum", "cross_entropy(p, y, reduction = sum)",
                  lambda z, y: F.cross_entropy(z, y, reduction="sum"), 5, LABELS),
        loss_case("cross_entropy_smoothing_sum",
                  "cross_entropy(p, y, label_smoothing = 0.2, reduction = sum)",
                  lambda z, y: F.cross_entropy(z, y, label_smoothing=0.2, reduction="sum"), 5, LABELS),
        loss_case("nll", "nll(p, y)", F.nll_loss, 5, LABELS),
        loss_case("nll_of_log_softmax", "nll(p, y)", F.nll_loss, 5, LABELS,
                  pred='log_softmax(dense(x, {u}, name = "fc"))',
                  pred_fn=lambda z: F.log_softmax(z, -1)),
        loss_case("bce", "bce(p, y)", F.binary_cross_entropy, 3, probs,
                  pred='sigmoid(dense(x, {u}, name = "fc"))', pred_fn=torch.sigmoid,
                  tol=in_float64("the gradient passes through 1 / (p (1 - p)) and back through "
                                 "sigmoid's p (1 - p): 1 - p loses digits as p nears 1")),
        loss_case("bce_with_logits", "bce_with_logits(p, y)", F.binary_cross_entropy_with_logits,
                  3, probs, scale=2.0),
        loss_case("hinge", "hinge(p, y)", hinge, 1, signs, scale=2.0),
    ]


# ---- optimizers and schedules: 20 steps on a two-layer regression ----

def problem(name, optimizer, schedule=None, extra="", penalty=None):
    """penalty(params) -> a scalar added to the loss (the train block's regularize)"""
    r = Rand(seed_of("fixed problem"))  # the same data and start for every configuration
    w1, b1 = dense_init(r, 3, 4)
    w2, b2 = dense_init(r, 4, 2)
    params = {"l1.w": w1, "l1.b": b1, "l2.w": w2, "l2.b": b2}
    inputs = {"x": r.normal(8, 3), "t": r.normal(8, 2)}
    sched = f"  schedule = {schedule}\n" if schedule else ""
    source = ('model net {\n  input x: f32[3]\n  input t: f32[2]\n'
              '  h = tanh(dense(x, 4, name = "l1"))\n  y = dense(h, 2, name = "l2")\n}\n'
              f'train net {{\n  loss = mse(y, t)\n  optimizer = {optimizer}\n{sched}{extra}'
              f'  batch = 8\n  epochs = {STEPS}\n}}\n')

    def loss_fn(p, i):
        h = torch.tanh(i["x"] @ p["l1.w"] + p["l1.b"])
        loss = F.mse_loss(h @ p["l2.w"] + p["l2.b"], i["t"])
        return loss + penalty(p) if penalty else loss
    return source, params, inputs, loss_fn


def opt_case(name, optimizer, make_opt, schedule=None, make_sched=None, extra="", tol=None,
             penalty=None, clip=None):
    source, params, inputs, loss_fn = problem(name, optimizer, schedule, extra, penalty)
    return train_case(name, source, params, inputs, loss_fn, make_opt, make_sched, tol, clip)


O = torch.optim
S = torch.optim.lr_scheduler


def optimizers_cases():
    return [
        opt_case("sgd", "sgd(lr = 0.1)", lambda p: O.SGD(p, lr=0.1)),
        opt_case("sgd_momentum", "sgd(lr = 0.1, momentum = 0.9)",
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9)),
        opt_case("sgd_nesterov", "sgd(lr = 0.1, momentum = 0.9, nesterov = 1)",
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        opt_case("sgd_weight_decay", "sgd(lr = 0.1, weight_decay = 0.05)",
                 lambda p: O.SGD(p, lr=0.1, weight_decay=0.05)),
        opt_case("sgd_momentum_weight_decay", "sgd(lr = 0.05, momentum = 0.5, weight_decay = 0.1)",
                 lambda p: O.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.1)),
        opt_case("adam", "adam(lr = 0.01)", lambda p: O.Adam(p, lr=0.01)),
        opt_case("adam_betas_eps", "adam(lr = 0.02, betas = [0.8, 0.99], eps = 1e-6)",
                 lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
        opt_case("adam_weight_decay", "adam(lr = 0.01, weight_decay = 0.1)",
                 lambda p: O.Adam(p, lr=0.01, weight_decay=0.1)),
    ]


def optimizers_more_cases():
    return [
        opt_case("sgd_dampening", "sgd(lr = 0.1, momentum = 0.9, dampening = 0.5)",
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9, dampening=0.5)),
        opt_case("rmsprop", "rmsprop(lr = 0.01)", lambda p: O.RMSprop(p, lr=0.01)),
        opt_case("rmsprop_alpha_weight_decay", "rmsprop(lr = 0.01, alpha = 0.9, eps = 1e-6, weight_decay = 0.1)",
                 lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
        opt_case("rmsprop_centered", "rmsprop(lr = 0.01, centered = 1)",
                 lambda p: O.RMSprop(p, lr=0.01, centered=True)),
        opt_case("rmsprop_momentum", "rmsprop(lr = 0.01, momentum = 0.5)",
                 lambda p: O.RMSprop(p, lr=0.01, momentum=0.5), tol=ill_conditioned(1e-4)),
        opt_case("rmsprop_centered_momentum", "rmsprop(lr = 0.01, momentum = 0.5, centered = 1)",
                 lambda p: O.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
                 tol=ill_conditioned(2e-4)),
        opt_case("adagrad", "adagrad(lr = 0.1)", lambda p: O.Adagrad(p, lr=0.1)),
        opt_case("adagrad_lr_decay", "adagrad(lr = 0.1, lr_decay = 0.05)",
                 lambda p: O.Adagrad(p, lr=0.1, lr_decay=0.05)),
        opt_case("adagrad_options",
                 "adagrad(lr = 0.1, weight_decay = 0.1, initial_accumulator_value = 0.1, eps = 1e-6)",
                 lambda p: O.Adagrad(p, lr=0.1, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6)),
        opt_case("adam_amsgrad", "adam(lr = 0.01, amsgrad = 1)",
                 lambda p: O.Adam(p, lr=0.01, amsgrad=True)),
        opt_case("adamw", "adamw(lr = 0.01)", lambda p: O.AdamW(p, lr=0.01)),
        opt_case("adamw_options", "adamw(lr = 0.02, betas = [0.8, 0.99], eps = 1e-6, weight_decay = 0.1)",
                 lambda p: O.AdamW(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
        opt_case("adamw_amsgrad", "adamw(lr = 0.01, weight_decay = 0.1, amsgrad = 1)",
                 lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True)),
    ]


def schedules_cases():
    sgd = lambda p: O.SGD(p, lr=0.1)
    return [
        opt_case("constant", "sgd(lr = 0.1)", sgd, "constant"),
        opt_case("step", "sgd(lr = 0.1)", sgd, "step(every = 5, gamma = 0.5)",
                 lambda o: S.StepLR(o, step_size=5, gamma=0.5)),
        opt_case("step_default", "sgd(lr = 0.1)", sgd, "step()",
                 lambda o: S.StepLR(o, step_size=1, gamma=0.1)),
        opt_case("exponential", "sgd(lr = 0.1)", sgd, "exponential(gamma = 0.9)",
                 lambda o: S.ExponentialLR(o, gamma=0.9)),
        opt_case("cosine", "sgd(lr = 0.1)", sgd, "cosine()",
                 lambda o: S.CosineAnnealingLR(o, T_max=STEPS)),
        opt_case("cosine_min_lr", "sgd(lr = 0.1)", sgd, "cosine(min_lr = 0.01)",
                 lambda o: S.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.01)),
        opt_case("adam_cosine", "adam(lr = 0.01)", lambda p: O.Adam(p, lr=0.01), "cosine()",
                 lambda o: S.CosineAnnealingLR(o, T_max=STEPS)),
        opt_case("momentum_step", "sgd(lr = 0.1, momentum = 0.9)",
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9), "step(every = 4, gamma = 0.5)",
                 lambda o: S.StepLR(o, step_size=4, gamma=0.5)),
    ]


def warmup(kind_sched, k, start_factor=None):
    """Linear warmup over the first k epochs (lr * (s + (1 - s) e / k), s = 1/k unless given),
    then the schedule, which starts its own epoch count at 0 after the warmup:
    SequentialLR(LinearLR(s, 1, k), main, [k])."""
    def make(o):
        s = 1.0 / k if start_factor is None else start_factor
        warm = S.LinearLR(o, start_factor=s, end_factor=1.0, total_iters=k)
        return S.SequentialLR(o, [warm, kind_sched(o)], milestones=[k])
    return make


def warmup_cases():
    sgd = lambda p: O.SGD(p, lr=0.1)
    constant = lambda o: S.ConstantLR(o, factor=1.0, total_iters=0)
    return [
        opt_case("warmup_constant", "sgd(lr = 0.1)", sgd, None, warmup(constant, 5),
                 extra="  warmup = 5\n"),
        opt_case("warmup_step", "sgd(lr = 0.1)", sgd, "step(every = 5, gamma = 0.5)",
                 warmup(lambda o: S.StepLR(o, step_size=5, gamma=0.5), 4), extra="  warmup = 4\n"),
        opt_case("warmup_cosine", "adam(lr = 0.01)", lambda p: O.Adam(p, lr=0.01), "cosine()",
                 warmup(lambda o: S.CosineAnnealingLR(o, T_max=STEPS - 5), 5), extra="  warmup = 5\n"),
        opt_case("warmup_start_factor", "sgd(lr = 0.1)", sgd, None, warmup(constant, 4, 0.1),
                 extra="  warmup = linear(4, start_factor = 0.1)\n"),
        opt_case("warmup_exponential", "sgd(lr = 0.1, momentum = 0.9)",
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9), "exponential(gamma = 0.9)",
                 warmup(lambda o: S.ExponentialLR(o, gamma=0.9), 3), extra="  warmup = 3\n"),
        opt_case("warmup_cosine_min_lr", "sgd(lr = 0.1)", sgd, "cosine(min_lr = 0.01)",
                 warmup(lambda o: S.CosineAnnealingLR(o, T_max=STEPS - 5, eta_min=0.01), 5, 0.25),
                 extra="  warmup = linear(5, start_factor = 0.25)\n"),
    ]


# ---- regularization and gradient clipping ----

def squares(p, names):
    return sum((p[k] ** 2).sum() for k in names)


def absolutes(p, names):
    return sum(p[k].abs().sum() for k in names)


ALL = ["l1.w", "l1.b", "l2.w", "l2.b"]


def regularization_cases():
    sgd = lambda p: O.SGD(p, lr=0.1)
    value = lambda v: lambda ps: torch.nn.utils.clip_grad_value_(ps, v)
    norm = lambda m: lambda ps: torch.nn.utils.clip_grad_norm_(ps, m)
    return [
        opt_case("l2_all", "sgd(lr = 0.1)", sgd, extra="  regularize = [l2(0.01)]\n",
                 penalty=lambda p: 0.01 * squares(p, ALL)),
        opt_case("l2_named_adam", "adam(lr = 0.01)", lambda p: O.Adam(p, lr=0.01),
                 extra="  regularize = [l2(0.05, l1.w, l2)]\n",
                 penalty=lambda p: 0.05 * squares(p, ["l1.w", "l2.w", "l2.b"])),
        opt_case("l1_all", "sgd(lr = 0.1, momentum = 0.9)", lambda p: O.SGD(p, lr=0.1, momentum=0.9),
                 extra="  regularize = [l1(0.001)]\n", penalty=lambda p: 0.001 * absolutes(p, ALL)),
        opt_case("l1_l2", "sgd(lr = 0.1)", sgd, extra="  regularize = [l1(0.002, l1), l2(0.01, l2.w)]\n",
                 penalty=lambda p: 0.002 * absolutes(p, ["l1.w", "l1.b"]) + 0.01 * squares(p, ["l2.w"])),
        opt_case("clip_value", "sgd(lr = 0.1, momentum = 0.9)", lambda p: O.SGD(p, lr=0.1, momentum=0.9),
                 extra="  clip_value = 0.05\n", clip=value(0.05)),
        opt_case("clip_norm", "sgd(lr = 0.1)", sgd, extra="  clip_norm = 0.5\n", clip=norm(0.5)),
        opt_case("clip_norm_adam", "adam(lr = 0.01)", lambda p: O.Adam(p, lr=0.01),
                 extra="  clip_norm = 0.1\n", clip=norm(0.1)),
        opt_case("clip_value_then_norm", "sgd(lr = 0.1)", sgd, extra="  clip_value = 0.2\n  clip_norm = 0.3\n",
                 clip=lambda ps: (value(0.2)(ps), norm(0.3)(ps))),
    ]


# ---- pooling and concatenation on NCHW images ----

def dims_of(shape):
    return ", ".join(str(d) for d in shape)


def image_case(name, shapes, expr, fn, tol=None):
    """expr over free parameters named by `shapes` (name -> shape, images [N, C, H, W] as
    unbatched 4-d tensors), loss = mse(expr, t) against a free t of the output's shape. Values
    are continuous normals: no two entries of a window are equal (max pooling has no ties)."""
    r = Rand(seed_of(name))
    params = {k: r.normal(*s) for k, s in shapes.items()}
    out_shape = tuple(fn(params).shape)
    params["t"] = r.normal(*out_shape)
    decls = "".join(f'  {k} = variable({dims_of(s)}, name = "{k}")\n' for k, s in shapes.items())
    source = (f'model m {{\n{decls}  t = variable({dims_of(out_shape)}, name = "t")\n'
              f'  y = {expr}\n}}\ntrain m {{\n  loss = mse(y, t)\n}}\n')
    return eval_case(name, source, params, {},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(fn(p)), tol)


def small_cnn():
    """a batch of input images [8, 3, 6, 6] through a learned per-pixel offset, both pools,
    concat along channels, global average pooling and a dense layer, under cross-entropy"""
    name = "pool_concat_batched"
    r = Rand(seed_of(name))
    w, b = dense_init(r, 6, 4)
    params = {"offset": r.normal(3, 6, 6, scale=0.5), "fc.w": w, "fc.b": b}
    inputs = {"x": r.normal(8, 3, 6, 6), "y": r.labels(8, 4)}
    source = ('model m {\n  input x: f32[3, 6, 6]\n  input y: i32[]\n'
              '  h = tanh(x + variable(3, 6, 6, name = "offset"))\n'
              '  c = concat(max_pool2d(h, 3, stride = 2, padding = 1), avg_pool2d(h, 4, 2, 1))\n'
              '  z = dense(global_avg_pool(c), 4, name = "fc")\n}\n'
              'train m {\n  loss = cross_entropy(z, y)\n  batch = 8\n}\n')

    def fwd(p, i):
        h = torch.tanh(i["x"] + p["offset"])
        c = torch.cat([F.max_pool2d(h, 3, stride=2, padding=1), F.avg_pool2d(h, 4, 2, 1)], 1)
        z = c.mean((2, 3)) @ p["fc.w"] + p["fc.b"]
        return z, F.cross_entropy(z, i["y"])
    return eval_case(name, source, params, inputs, fwd)


def pool_cases():
    x = lambda f: (lambda p: f(p["x"]))
    gap = lambda v: F.adaptive_avg_pool2d(v, 1).flatten(1)
    return [
        image_case("max_pool2d", {"x": (2, 3, 6, 6)}, "max_pool2d(x, 2)", x(lambda v: F.max_pool2d(v, 2))),
        image_case("max_pool2d_odd_size", {"x": (2, 2, 7, 5)}, "max_pool2d(x, 2)",
                   x(lambda v: F.max_pool2d(v, 2))),
        image_case("max_pool2d_overlapping", {"x": (1, 2, 6, 6)}, "max_pool2d(x, 3, stride = 1)",
                   x(lambda v: F.max_pool2d(v, 3, stride=1))),
        image_case("max_pool2d_stride_padding", {"x": (2, 2, 7, 6)},
                   "max_pool2d(x, 3, stride = 2, padding = 1)",
                   x(lambda v: F.max_pool2d(v, 3, stride=2, padding=1))),
        image_case("max_pool2d_negative_padded", {"x": (1, 2, 5, 5)}, "max_pool2d(x - 5, 4, 3, 2)",
                   x(lambda v: F.max_pool2d(v - 5, 4, 3, 2))),
        image_case("avg_pool2d", {"x": (2, 3, 6, 6)}, "avg_pool2d(x, 2)", x(lambda v: F.avg_pool2d(v, 2))),
        image_case("avg_pool2d_overlapping", {"x": (1, 2, 6, 5)}, "avg_pool2d(x, 3, stride = 1)",
                   x(lambda v: F.avg_pool2d(v, 3, stride=1))),
        image_case("avg_pool2d_stride_padding", {"x": (2, 2, 7, 6)},
                   "avg_pool2d(x, 3, stride = 2, padding = 1)",
                   x(lambda v: F.avg_pool2d(v, 3, stride=2, padding=1))),
        image_case("avg_pool2d_kernel4_padding2", {"x": (1, 2, 5, 6)}, "avg_pool2d(x, 4, 3, 2)",
                   x(lambda v: F.avg_pool2d(v, 4, 3, 2))),
        image_case("global_avg_pool", {"x": (2, 3, 4, 5)}, "global_avg_pool(x)", x(gap)),
        image_case("concat_channels", {"a": (2, 2, 3, 3), "b": (2, 3, 3, 3)}, "concat(a, b)",
                   lambda p: torch.cat([p["a"], p["b"]], 1)),
        image_case("concat_last_axis", {"a": (2, 2, 3, 2), "b": (2, 2, 3, 4), "c": (2, 2, 3, 1)},
                   "concat(a, b * 2, c, axis = -1)",
                   lambda p: torch.cat([p["a"], p["b"] * 2, p["c"]], -1)),
        image_case("concat_rows_five", {"a": (1, 2, 2, 3), "b": (1, 2, 1, 3)},
                   "concat(a, b, a, b, exp(a), axis = 2)",
                   lambda p: torch.cat([p["a"], p["b"], p["a"], p["b"], torch.exp(p["a"])], 2)),
        image_case("concat_features", {"a": (4, 3), "b": (4, 2)}, "concat(a, b, axis = 1)",
                   lambda p: torch.cat([p["a"], p["b"]], 1)),
        image_case("pools_composed", {"x": (2, 2, 8, 8)},
                   "concat(max_pool2d(x, 2), avg_pool2d(x, 3, 2, 1)) * 2",
                   x(lambda v: torch.cat([F.max_pool2d(v, 2), F.avg_pool2d(v, 3, 2, 1)], 1) * 2)),
        small_cnn(),
    ]


# ---- batchnorm: torch.nn.BatchNorm1d / BatchNorm2d ----

def bn_eval_case(name, shape, call, eps=1e-5, affine=True, tol=None):
    """training-mode forward and backward of batchnorm on a free x [shape], against a free t"""
    r = Rand(seed_of(name))
    dims = ", ".join(str(d) for d in shape)
    C = shape[1]
    params = {"x": r.normal(*shape, scale=2.0) + r.normal(1, C, *([1] * (len(shape) - 2)))}
    if affine:
        params["bn.weight"] = r.uniform(0.5, 1.5, C)
        params["bn.bias"] = r.normal(C, scale=0.5)
    params["t"] = r.normal(*shape)
    source = (f'model m {{\n  x = variable({dims}, name = "x")\n  t = variable({dims}, name = "t")\n'
              f'  y = {call}\n}}\ntrain m {{\n  loss = mse(y, t)\n}}\n')

    def fwd(p, i):
        y = F.batch_norm(p["x"], None, None, p.get("bn.weight"), p.get("bn.bias"), training=True,
                         eps=eps)
        return y, F.mse_loss(y, p["t"])
    return eval_case(name, source, params, {}, fwd, tol)


BN_STEPS = 5


def bn_train_case(name, source, params, inputs, module, forward, make_opt):
    """BN_STEPS optimizer steps of forward(p, bn, inputs) -> (y, loss) with a torch batchnorm
    module whose weight and bias are params "bn.weight" / "bn.bias": the trajectory holds the
    parameters and the running statistics after every step; eval_output is the output in
    evaluation mode (running statistics) after the last step"""
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items() if not k.startswith("bn.")}
    with torch.no_grad():
        module.weight.copy_(params["bn.weight"])
        module.bias.copy_(params["bn.bias"])
    named = dict(leaves, **{"bn.weight": module.weight, "bn.bias": module.bias})
    opt = make_opt(list(named.values()))
    losses, trajectory = [], []
    module.train()
    for _ in range(BN_STEPS):
        opt.zero_grad()
        _, loss = forward(named, module, inputs)
        loss.backward()
        opt.step()
        losses.append(f32(loss.item()))
        step = {k: flat(v) for k, v in named.items()}
        step["bn.running_mean"] = flat(module.running_mean)
        step["bn.running_var"] = flat(module.running_var)
        trajectory.append(step)
    module.eval()
    with torch.no_grad():
        eval_output, _ = forward(named, module, inputs)
    return {
        "name": name,
        "kind": "train",
        "source": source,
        "tolerance": tolerance(floor=TRAJECTORY_FLOOR, reason=TRAJECTORY_FLOOR_REASON),
        "params": {k: flat(v) for k, v in params.items()},
        "inputs": {k: flat(v) for k, v in inputs.items()},
        "steps": BN_STEPS,
        "lr": [float(opt.param_groups[0]["lr"])] * BN_STEPS,
        "losses": losses,
        "trajectory": trajectory,
        "eval_output": flat(eval_output),
    }


def bn2d_train():
    """x * w (w free, per position) into BatchNorm2d(3, momentum = 0.2), SGD with momentum"""
    name = "batchnorm2d_running_stats"
    r = Rand(seed_of(name))
    params = {"w": r.uniform(0.5, 1.5, 3, 2, 2), "bn.weight": r.uniform(0.5, 1.5, 3),
              "bn.bias": r.normal(3, scale=0.5)}
    inputs = {"x": r.normal(4, 3, 2, 2) + 0.5, "t": r.normal(4, 3, 2, 2)}
    source = ('model net {\n  input x: f32[3, 2, 2]\n  input t: f32[3, 2, 2]\n'
              '  w = variable(3, 2, 2, name = "w")\n'
              '  y = batchnorm(x * w, momentum = 0.2, name = "bn")\n}\n'
              'train net {\n  loss = mse(y, t)\n  optimizer = sgd(lr = 0.5, momentum = 0.9)\n'
              f'  batch = 4\n  epochs = {BN_STEPS}\n}}\n')

    def fwd(p, bn, i):
        y = bn(i["x"] * p["w"])
        return y, F.mse_loss(y, i["t"])
    return bn_train_case(name, source, params, inputs, torch.nn.BatchNorm2d(3, momentum=0.2), fwd,
                         lambda ps: O.SGD(ps, lr=0.5, momentum=0.9))


def bn1d_train():
    """a dense layer without bias (batchnorm's mean would cancel it: its gradient is rounding
    noise, which Adam turns into steps) into BatchNorm1d(3, eps = 1e-3), Adam"""
    name = "batchnorm1d_running_stats"
    r = Rand(seed_of(name))
    w, _ = dense_init(r, 5, 3)
    params = {"fc.w": w, "bn.weight": r.uniform(0.5, 1.5, 3),
              "bn.bias": r.normal(3, scale=0.5)}
    inputs = {"x": r.normal(6, 5) + 1.0, "t": r.normal(6, 3)}
    source = ('model net {\n  input x: f32[5]\n  input t: f32[3]\n'
              '  y = batchnorm(dense(x, 3, bias = 0, name = "fc"), eps = 0.001, name = "bn")\n}\n'
              'train net {\n  loss = mse(y, t)\n  optimizer = adam(lr = 0.05)\n'
              f'  batch = 6\n  epochs = {BN_STEPS}\n}}\n')

    def fwd(p, bn, i):
        y = bn(i["x"] @ p["fc.w"])
        return y, F.mse_loss(y, i["t"])
    return bn_train_case(name, source, params, inputs, torch.nn.BatchNorm1d(3, eps=1e-3), fwd,
                         lambda ps: O.Adam(ps, lr=0.05))


def batchnorm_cases():
    return [
        bn_eval_case("batchnorm1d", (6, 4), 'batchnorm(x, name = "bn")'),
        bn_eval_case("batchnorm1d_no_affine", (5, 3), "batchnorm(x, affine = 0, eps = 0.01)",
                     eps=0.01, affine=False,
                     tol=in_float64("dx = (dy - mean(dy) - xhat mean(dy xhat)) invstd cancels terms "
                                    "of about 0.1 down to about 3e-4")),
        bn_eval_case("batchnorm2d", (4, 3, 2, 3), 'batchnorm(x, name = "bn")'),
        bn_eval_case("batchnorm2d_no_affine", (2, 2, 3, 3), "batchnorm(x, affine = 0)",
                     affine=False),
        bn2d_train(),
        bn1d_train(),
    ]


# ---- output ----

# ---- convolution and reshaping: conv2d on a batch of images ----

def conv_case(name, C, H, W, out, kernel, opts="", bias=True, stride=1, padding=0, dilation=1,
              groups=1, batch=3, head=None):
    """conv2d(x + b, ...) on a batch x [batch, C, H, W]; the free offset b [C, H, W] carries the
    gradient with respect to the conv's input back (summed over the batch). Weights follow
    nn.Conv2d's default init. head: "flatten" adds flatten + dense(5) after the conv."""
    r = Rand(seed_of(name))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    fan_in = C // groups * kh * kw
    bound = 1 / math.sqrt(fan_in)
    params = {"b": r.normal(C, H, W, scale=0.1),
              "conv.w": r.uniform(-bound, bound, out, C // groups, kh, kw)}
    if bias:
        params["conv.b"] = r.uniform(-bound, bound, out)
    x = r.normal(batch, C, H, W)
    y0 = F.conv2d(x, params["conv.w"], None, stride, padding, dilation, groups)
    feats = y0[0].numel()
    if head == "flatten":
        w2, b2 = dense_init(r, feats, 5)
        params["fc.w"], params["fc.b"] = w2, b2
        t_shape = (batch, 5)
    else:
        t_shape = (batch,) + tuple(y0.shape[1:])
    inputs = {"x": x, "t": r.normal(*t_shape)}
    dims = lambda s: ", ".join(str(d) for d in s)
    kernel_src = str(kernel) if isinstance(kernel, int) else f"[{kh}, {kw}]"
    call = f'conv2d(x + b, {out}, {kernel_src}{opts}, name = "conv"{"" if bias else ", bias = 0"})'
    body = (f"  y = dense(flatten({call}), 5, name = \"fc\")\n" if head == "flatten"
            else f"  y = {call}\n")
    source = (f'model m {{\n  input x: f32[{dims((C, H, W))}]\n  input t: f32[{dims(t_shape[1:])}]\n'
              f'  b = variable({dims((C, H, W))}, name = "b")\n{body}}}\n'
              f'train m {{\n  loss = mse(y, t)\n  batch = {batch}\n}}\n')

    def fwd(p, i):
        y = F.conv2d(i["x"] + p["b"], p["conv.w"], p.get("conv.b"), stride, padding, dilation, groups)
        if head == "flatten":
            y = y.flatten(1) @ p["fc.w"] + p["fc.b"]
        return y, F.mse_loss(y, i["t"])
    return eval_case(name, source, params, inputs, fwd, CONV_TOL)


# A conv output is a sum of C/groups kH kW products of inputs ~N(0, 1) and weights up to
# 1/sqrt(fan_in), so its terms are of size ~0.3 and the sum ~1; GEMM adds them in another order
# than torch's kernel, and float32 rounding of terms and partial sums that size (6e-8 each)
# stays in outputs that cancel to near zero, and in the gradients computed from them.
CONV_TOL = tolerance(floor=0.01, reason="floor 0.01: conv outputs sum many terms of size ~0.3 "
                     "in another order than torch, so float32 rounding at that scale (absolute "
                     "~1e-7) stays in entries that cancel to near zero")


def conv_cases():
    return [
        conv_case("conv_basic", 2, 6, 5, 3, 3),
        conv_case("conv_stride_padding", 2, 7, 6, 4, (3, 2), ", stride = 2, padding = [1, 2]",
                  stride=2, padding=(1, 2)),
        conv_case("conv_stride_pair", 3, 9, 8, 2, 3, ", stride = [2, 1], padding = 1",
                  stride=(2, 1), padding=1),
        conv_case("conv_same_odd", 2, 5, 6, 3, 3, ", padding = same", padding="same"),
        conv_case("conv_same_even_dilated", 2, 6, 6, 3, (4, 2), ", padding = same, dilation = [1, 2]",
                  padding="same", dilation=(1, 2)),
        conv_case("conv_dilation", 2, 9, 8, 3, 3, ", dilation = 2, padding = 1", padding=1, dilation=2),
        conv_case("conv_groups_no_bias", 4, 6, 6, 6, 3, ", groups = 2", bias=False, groups=2),
        conv_case("conv_depthwise", 3, 9, 7, 3, 3, ", groups = 3, stride = 2, padding = [1, 0]",
                  groups=3, stride=2, padding=(1, 0)),
        conv_case("conv_1x1", 4, 5, 5, 2, 1),
        conv_case("conv_flatten_dense", 2, 6, 6, 3, 3, ", stride = 1, padding = 1", padding=1,
                  head="flatten"),
    ]


# ---- issue 13 ops1: abs, square, clamp, matmul ----

def matmul_case(name, batched):
    """matmul(a, b) of a free [4, 6] matrix (or a batch of 8 inputs [6] plus a free offset, so
    that the left operand has a gradient) and a free matrix [6, 5]"""
    r = Rand(seed_of(name))
    if batched:
        source = ('model m {\n  input x: f32[6]\n  input t: f32[5]\n  c = variable(6, name = "c")\n'
                  '  b = variable(6, 5, name = "b")\n  y = matmul(x + c, b)\n}\n'
                  'train m {\n  loss = mse(y, t)\n  batch = 8\n}\n')
        params = {"c": r.normal(6), "b": r.normal(6, 5)}
        inputs = {"x": r.normal(8, 6), "t": r.normal(8, 5)}
        fwd = lambda p, i: (lambda y: (y, F.mse_loss(y, i["t"])))(torch.matmul(i["x"] + p["c"], p["b"]))
        return eval_case(name, source, params, inputs, fwd)
    source = ('model m {\n  a = variable(4, 6, name = "a")\n  b = variable(6, 5, name = "b")\n'
              '  t = variable(4, 5, name = "t")\n  y = matmul(a, b)\n}\n'
              'train m {\n  loss = mse(y, t)\n}\n')
    params = {"a": r.normal(4, 6), "b": r.normal(6, 5), "t": r.normal(4, 5)}
    return eval_case(name, source, params, {},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(torch.matmul(p["a"], p["b"])))


def matmul_batches_case(name, per_sample):
    """matmul of batches of matrices (issue 13): a batch of 4 inputs [2, 3] plus a free offset
    (so the left operand has a gradient) times a free matrix [3, 5] shared by every sample, one
    product over the 8 rows; or per sample, times the transpose of a second batch [4, 5, 3]
    plus a free offset (attention scores q k^T). Every sum is at most 8 terms at scale 1 (the
    shared matrix's gradient sums 4 samples x 2 rows, an offset's 4 samples), the default
    criterion's case."""
    r = Rand(seed_of(name))
    if per_sample:
        source = ('model m {\n  input x: f32[2, 3]\n  input z: f32[5, 3]\n  input t: f32[2, 5]\n'
                  '  c = variable(2, 3, name = "c")\n  e = variable(5, 3, name = "e")\n'
                  '  y = matmul(x + c, transpose(z + e, 1, 2))\n}\n'
                  'train m {\n  loss = mse(y, t)\n  batch = 4\n}\n')
        params = {"c": r.normal(2, 3), "e": r.normal(5, 3)}
        inputs = {"x": r.normal(4, 2, 3), "z": r.normal(4, 5, 3), "t": r.normal(4, 2, 5)}
        fwd = lambda p, i: (lambda y: (y, F.mse_loss(y, i["t"])))(
            torch.matmul(i["x"] + p["c"], (i["z"] + p["e"]).transpose(1, 2)))
        return eval_case(name, source, params, inputs, fwd)
    source = ('model m {\n  input x: f32[2, 3]\n  input t: f32[2, 5]\n  c = variable(2, 3, name = "c")\n'
              '  b = variable(3, 5, name = "b")\n  y = matmul(x + c, b)\n}\n'
              'train m {\n  loss = mse(y, t)\n  batch = 4\n}\n')
    params = {"c": r.normal(2, 3), "b": r.normal(3, 5)}
    inputs = {"x": r.normal(4, 2, 3), "t": r.normal(4, 2, 5)}
    fwd = lambda p, i: (lambda y: (y, F.mse_loss(y, i["t"])))(torch.matmul(i["x"] + p["c"], p["b"]))
    return eval_case(name, source, params, inputs, fwd)


def off_bounds(lo, hi):
    """N(0, 1) values moved off the kinks at lo and hi (and at 0) by at least 0.05"""
    def draw(r, *shape):
        x = r.normal(*shape)
        for k in (lo, hi, 0.0):
            if k is not None:
                near = (x - k).abs() < 0.05
                x = torch.where(near, x + 0.1, x)
        return x
    return draw


def at_kinks(points):
    """N(0, 1) values with every 4th entry set to one of the points in turn"""
    def draw(r, *shape):
        x = r.normal(*shape).view(-1)
        for j in range(0, x.numel(), 4):
            x[j] = points[(j // 4) % len(points)]
        return x.view(*shape)
    return draw


def on_param(name, shape, call, fn, out_shape):
    """call(x) on a free parameter x of `shape`, loss mse against a free target"""
    r = Rand(seed_of(name))
    dims = ", ".join(str(d) for d in shape)
    tdims = ", ".join(str(d) for d in out_shape)
    source = (f'model m {{\n  x = variable({dims}, name = "x")\n  t = variable({tdims}, name = "t")\n'
              f'  y = {call}\n}}\ntrain m {{\n  loss = mse(y, t)\n}}\n')
    params = {"x": r.normal(*shape), "t": r.normal(*out_shape)}
    return eval_case(name, source, params, {},
                     lambda p, i: (lambda y: (y, F.mse_loss(y, p["t"])))(fn(p["x"])))


def on_batch(name, shape, call, fn, out_shape, batch=8):
    """call(x + c) on a batch of inputs x (per-sample `shape`) plus a free offset c"""
    r = Rand(seed_of(name))
    dims = ", ".join(str(d) for d in shape)
    tdims = ", ".join(str(d) for d in out_shape)
    source = (f'model m {{\n  input x: f32[{dims}]\n  input t: f32[{tdims}]\n'
              f'  c = variable({dims}, name = "c")\n  y = {call}\n}}\n'
              f'train m {{\n  loss = mse(y, t)\n  batch = {batch}\n}}\n')
    params = {"c": r.normal(*shape)}
    inputs = {"x": r.normal(batch, *shape), "t": r.normal(batch, *out_shape)}
    return eval_case(name, source, params, inputs,
                     lambda p, i: (lambda y: (y, F.mse_loss(y, i["t"])))(fn(i["x"] + p["c"])))


def one_hot_case(name):
    """one_hot(label, 5) * w + b: w's gradient sums dy over the samples of each class"""
    r = Rand(seed_of(name))
    source = ('model m {\n  input label: i32[]\n  input t: f32[5]\n  w = variable(5, name = "w")\n'
              '  b = variable(5, name = "b")\n  y = one_hot(label, 5) * w + b\n}\n'
              'train m {\n  loss = mse(y, t)\n  batch = 8\n}\n')
    params = {"w": r.normal(5), "b": r.normal(5)}
    inputs = {"label": r.labels(8, 5), "t": r.normal(8, 5)}
    fwd = lambda p, i: (lambda y: (y, F.mse_loss(y, i["t"])))(
        F.one_hot(i["label"], 5).float() * p["w"] + p["b"])
    return eval_case(name, source, params, inputs, fwd)


def ops1_cases():
    return [
        unary("abs", "abs(x)", torch.abs, x=off_kink),
        unary("square", "square(x)", torch.square, x=lambda r, *s: r.normal(*s, scale=2)),
        unary("clamp", "clamp(x, -0.5, 0.7)", lambda x: torch.clamp(x, -0.5, 0.7),
              x=off_bounds(-0.5, 0.7)),
        unary("clamp_min", "clamp(x, min = 0.2)", lambda x: torch.clamp(x, min=0.2),
              x=off_bounds(0.2, None)),
        unary("clamp_max", "clamp(x, max = -0.1)", lambda x: torch.clamp(x, max=-0.1),
              x=off_bounds(None, -0.1)),
        unary("abs_square_clamp", "square(clamp(abs(x) - 0.5, min = -0.25))",
              lambda x: torch.square(torch.clamp(torch.abs(x) - 0.5, min=-0.25)), x=off_kink),
        # at the kinks themselves: torch's abs passes sign(0) = 0, clamp passes dy at a bound
        unary("abs_clamp_at_kinks", "abs(x) + clamp(x, -0.5, 0.75)",
              lambda x: torch.abs(x) + torch.clamp(x, -0.5, 0.75), x=at_kinks([0.0, -0.5, 0.75])),
        matmul_case("matmul", batched=False),
        matmul_case("matmul_batched", batched=True),
        matmul_batches_case("matmul_rows3_shared", per_sample=False),
        matmul_batches_case("matmul_per_sample", per_sample=True),
        on_param("transpose_matrix", (4, 6), "transpose(x, 0, 1)", lambda x: x.t(), (6, 4)),
        on_param("transpose_outer", (3, 4, 5), "transpose(x, -1, 0)", lambda x: x.transpose(-1, 0),
                 (5, 4, 3)),
        on_batch("transpose_batched", (2, 3, 4), "transpose(x + c, 1, 3)",
                 lambda x: x.transpose(1, 3), (4, 3, 2)),
        on_batch("transpose_batched_inner", (2, 3, 4), "transpose(x + c, -1, -2)",
                 lambda x: x.transpose(-1, -2), (2, 4, 3)),
        on_param("slice_matrix", (4, 6), "slice(x, 1, 2, 3)", lambda x: x.narrow(1, 2, 3), (4, 3)),
        on_param("slice_rows", (5, 3), "slice(x, axis = 0, start = 1, length = 3)",
                 lambda x: x.narrow(0, 1, 3), (3, 3)),
        on_batch("slice_batched", (5, 4), "slice(x + c, 2, 1, 3) * 2", lambda x: x.narrow(2, 1, 3) * 2,
                 (5, 3)),
        on_batch("slice_concat", (6,), "concat(slice(x + c, 1, 4, 2), slice(x + c, -1, 0, 3))",
                 lambda x: torch.cat([x.narrow(1, 4, 2), x.narrow(1, 0, 3)], 1), (5,)),
        one_hot_case("one_hot"),
        on_param("literal_vector", (4, 3), "x * [1, -2, 0.5] + full([3], 0.25) * constant(2)",
                 lambda x: x * torch.tensor([1, -2, 0.5]) + torch.full((3,), 0.25) * 2, (4, 3)),
        on_batch("literal_matrix", (3,), "matmul(x + c, [[1, 2], [3, 3], [-1, 0.5]]) - [0, 1]",
                 lambda x: x @ torch.tensor([[1, 2], [3, 3], [-1, 0.5]]) - torch.tensor([0, 1]), (2,)),
    ]


def dump(v, indent):
    """JSON with one line per number list (small diffs, readable files)."""
    pad = " " * indent
    if isinstance(v, dict) and all(not isinstance(x, (dict, list)) for x in v.values()):
        return json.dumps(v)
    if isinstance(v, dict):
        items = [f'{pad}  {json.dumps(k)}: {dump(x, indent + 2)}' for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return "[\n" + ",\n".join(pad + "  " + dump(x, indent + 2) for x in v) + "\n" + pad + "]"
    return json.dumps(v)


def write(file, title, cases):
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), f"duplicate case names in {file}"
    doc = {"about": f"{title}. PyTorch {torch.__version__} reference values written by "
                    "tools/torch_reference.py; regenerate, do not edit.",
           "cases": cases}
    path = os.path.join(OUT_DIR, file)
    with open(path, "w") as f:
        f.write(dump(doc, 0) + "\n")
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    write("ops.json", "Elementwise ops, softmax, arithmetic with broadcasting, dense", ops_cases())
    write("losses.json", "cross_entropy and mse on a dense layer", losses_cases())
    write("optimizers.json", "20 steps of SGD and Adam on a fixed two-layer regression",
          optimizers_cases())
    write("schedules.json", "20 epochs of one step each under each learning-rate schedule",
          schedules_cases())
    write("activations.json", "Activations beyond the first set", activations_cases())
    write("reductions.json", "sum and mean", reductions_cases())
    write("losses_more.json", "Losses beyond cross_entropy and mse, and reduction = sum",
          losses_more_cases())
    write("optimizers_more.json", "20 steps of RMSprop, Adagrad, AdamW, AMSGrad, SGD dampening",
          optimizers_more_cases())
    write("warmup.json", "Linear learning-rate warmup before a schedule", warmup_cases())
    write("regularization.json", "l1/l2 penalties in the loss, gradient clipping by value and norm",
          regularization_cases())
    write("pool.json", "max_pool2d, avg_pool2d, global_avg_pool and concat on NCHW images",
          pool_cases())
    write("batchnorm.json", "batchnorm: training-mode forward and backward, running statistics "
          "after steps, evaluation with them", batchnorm_cases())
    write("conv.json", "conv2d (stride, padding, same, dilation, groups, bias) and flatten",
          conv_cases())
    write("ops1.json", "issue 13 ops1: abs, square, clamp (both bounds, one bound), matmul, "
          "transpose, slice, one_hot, constants",
          ops1_cases())
    write("ops2.json", "issue 13 ops2: sum, mean, max along an axis, norm, pairwise_distance, "
          "cosine_similarity, comparisons and where, contrastive and triplet losses", ops2_cases())
    return 0


if __name__ == "__main__":
    sys.exit(main())
