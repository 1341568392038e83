#!/usr/bin/env python3
"""png_check.py — decodes an 8-bit grayscale PNG with the standard library only (zlib, struct):
the signature, the IHDR, the IDAT stream and the five row filters, checking each chunk's CRC.
   from png_check import read_png; width, height, rows = read_png(path)
rows is a list of `height` bytes objects of `width` pixels."""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind, line, prev):
    out = bytearray(line)
    for i in range(len(out)):
        a = out[i - 1] if i > 0 else 0
        b, c = prev[i], (prev[i - 1] if i > 0 else 0)
        pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
        out[i] = (out[i] + pred) & 0xFF
    return bytes(out)


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == SIGNATURE, "not a PNG: bad signature"
    at, idat, ihdr, ended = 8, b"", None, False
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        crc, = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind}"
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            ended = True
        at += 12 + length
    assert ihdr and ended, "no IHDR or IEND"
    width, height, depth, color, _, _, interlace = ihdr
    assert (depth, color, interlace) == (8, 0, 0), f"not 8-bit gray, non-interlaced: {ihdr}"
    raw, rows, prev = zlib.decompress(idat), [], bytes(width)
    assert len(raw) == height * (width + 1), "IDAT holds the wrong number of bytes"
    for y in range(height):
        line = raw[y * (width + 1):(y + 1) * (width + 1)]
        prev = _unfilter(line[0], line[1:], prev)
        rows.append(prev)
    return width, height, rows
