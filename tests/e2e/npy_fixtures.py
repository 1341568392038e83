#!/usr/bin/env python3
"""npy_fixtures.py DIR — writes the .npy and .npz files tests/e2e/npy_data.sh reads, with the
standard library only (the NPY format by hand, zipfile for .npz): good arrays of several dtypes,
and one bad file per error the reader reports."""
import math
import os
import struct
import sys
import zipfile


def npy(descr, shape, values, fortran=False, magic=b"\x93NUMPY", version=1, header=None):
    """the bytes of an .npy file; values packed with descr's struct code"""
    if header is None:
        dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
        header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
            descr, "True" if fortran else "False", dims)
    pre = len(magic) + 2 + (2 if version == 1 else 4)
    pad = 64 - (pre + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode()
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    codes = {"<f4": "f", "<f8": "d", "<i8": "q", "<i4": "i", "|u1": "B", ">f4": "f", "<c8": "ff"}
    code = codes.get(descr, "f")
    order = ">" if descr.startswith(">") else "<"
    body = b"".join(struct.pack(order + code, *(v if isinstance(v, tuple) else (v,))) for v in values)
    return magic + bytes([version, 0]) + size + text + body


def main():
    d = sys.argv[1]
    n = 120
    x = [[math.sin(i * 0.7 + j) for j in range(3)] for i in range(n)]
    y = [1 if r[0] + r[2] > 0 else 0 for r in x]
    g = [i % 12 for i in range(n)]
    flat = [v for r in x for v in r]
    files = {
        "x.npy": npy("<f4", (n, 3), flat),
        "x64.npy": npy("<f8", (n, 3), flat, version=2),
        "y.npy": npy("<i8", (n,), y),
        "y1.npy": npy("|u1", (n, 1), y),
        "g.npy": npy("<i4", (n,), g),
        "bad_magic.npy": b"NUMPY" + bytes(100),
        "no_descr.npy": npy("<f4", (n, 3), flat, header="{'fortran_order': False, 'shape': (120, 3), }"),
        "big_endian.npy": npy(">f4", (n, 3), flat),
        "complex.npy": npy("<c8", (n, 3), [(v, 0.0) for v in flat]),
        "text.npy": npy("<U5", (n,), [], header="{'descr': '<U5', 'fortran_order': False, 'shape': (120,), }"),
        "fortran.npy": npy("<f4", (n, 3), flat, fortran=True),
        "nan.npy": npy("<f4", (n, 3), flat[:7] + [float("nan")] + flat[8:]),
        "inf.npy": npy("<f8", (n, 3), flat[:40] + [float("-inf")] + flat[41:]),
        "yfloat.npy": npy("<f4", (n,), [float(v) for v in y]),
        "yneg.npy": npy("<i8", (n,), y[:5] + [-1] + y[6:]),
        "y3.npy": npy("<i8", (n,), y[:9] + [3] + y[10:]),
        "short.npy": npy("<i8", (n - 1,), y[:-1]),
        "cut.npy": npy("<f4", (n, 3), flat[:100]),
        "x4.npy": npy("<f4", (n, 4), flat + flat[:n]),
    }
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    with zipfile.ZipFile(os.path.join(d, "d.npz"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("features.npy", files["x.npy"])
        z.writestr("labels.npy", files["y.npy"])
        z.writestr("person.npy", files["g.npy"])
    with zipfile.ZipFile(os.path.join(d, "dc.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("features.npy", files["x64.npy"])
        z.writestr("labels.npy", files["y1.npy"])
    with open(os.path.join(d, "not.npz"), "wb") as f:
        f.write(b"this is no zip archive\n")


main()
