#!/usr/bin/python3
"""Writes the seed corpora of the `checkpoint` and `partial` fuzz targets: small, valid statistics
records, point shares, certified work items and partial files, laid out as core/engine/byte_codec.h
writes them (little-endian x86-64; vectors and records as a 64-bit count, then the elements).
Run from the repository root: /usr/bin/python3 tests/fuzz/make_record_seeds.py"""
import os
import struct

STATS_MAGIC = 0x31764B5654534B50  # core/engine/point_statistics.cpp
ITEM_MAGIC = 0x3174696B43545654  # experiments/certified/item_result.cpp
PARTIAL_MAGIC = b"tvk-partial 2\n"  # experiments/partial_file.cpp
VERSION = "0.1.0"  # CMakeLists.txt project(VERSION): order_partials wants this tvk's


def u64(v):
    return struct.pack("<Q", v)


def vec(fmt, values):
    return u64(len(values)) + b"".join(struct.pack("<" + fmt, v) for v in values)


def record(b):
    return u64(len(b)) + b


def stats(eps, bounds, grid, max_n, store_rows, rows):
    ints = [rows * 2] * (2 * eps + 3 * bounds * eps)
    doubles = [0.5] * (2 * eps + 2 * bounds * eps + 2 * grid + 2 * (bounds + 1) * eps)
    histogram = []
    for _ in range(eps):
        h = [0] * (max_n + 1)
        h[min(2, max_n)] = rows
        histogram += h
    width = 5 + 2 * eps + 3 * bounds * eps
    values = [1.0] * (rows * width if store_rows else 0)
    return (u64(STATS_MAGIC) + struct.pack("<q", rows) + vec("q", ints) + vec("d", doubles) +
            vec("q", histogram) + vec("d", values))


def share(eps, bounds, grid, max_n, chunks):
    body = record(stats(eps, bounds, grid, max_n, False, 2))
    body += u64(len(chunks))
    ndoubles = 2 * eps + 2 * bounds * eps + 2 * grid + 2 * (bounds + 1) * eps
    for c, rows in chunks:
        body += u64(c) + vec("d", [0.25] * ndoubles) + vec("d", [])
    return body


def item(rows, exact_per_row, records_per_row, searches):
    out = u64(ITEM_MAGIC) + u64(rows)
    for r in range(rows):
        out += struct.pack("<4q", 0, 1, 2, r) + struct.pack("<I", 8)
    out += vec("I", list(range(rows * exact_per_row)))
    out += u64(rows * records_per_row)
    for _ in range(rows * records_per_row):
        out += struct.pack("<4I", 8, 2, 3, 1) + bytes([0, 1, 1, 1])
        out += struct.pack("<5d", 0.01, 0.005, 0.5, 0.001, 0.002) + struct.pack("<5d", *[1.0] * 5)
    out += vec("d", [0.1] * searches) + struct.pack("<d", 0.2)
    return out


def partial(kind, index, count, shares):
    body = record(kind.encode()) + record(b"kind: " + kind.encode() + b"\nname: fuzz\n")
    body += record(b"fuzz.yaml") + u64(7) + u64(index) + u64(count) + u64(len(shares))
    body += record(b"0123456789abcdef") + record(VERSION.encode()) + u64(len(shares))
    for s in shares:
        body += record(s)
    return PARTIAL_MAGIC + body


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def shape_prefix(eps, bounds, grid, max_n, store_rows):
    return bytes([eps - 1, bounds, grid - 1, max_n - 1, int(store_rows)])


C = "tests/fuzz/corpus/checkpoint"
write(C, "stats_1x0_norows", shape_prefix(1, 0, 1, 4, False) + stats(1, 0, 1, 4, False, 3))
write(C, "stats_2x1_rows", shape_prefix(2, 1, 4, 16, True) + stats(2, 1, 4, 16, True, 2))
write(C, "stats_empty", shape_prefix(3, 2, 2, 8, False) + stats(3, 2, 2, 8, False, 0))
write(C, "share_2x1", shape_prefix(2, 1, 4, 16, False) + share(2, 1, 4, 16, [(0, 1), (3, 1)]))
write(C, "point_file_header", b"tvk-checkpoint-point 2 0123456789abcdef\n" + stats(1, 0, 1, 4, False, 1))
P = "tests/fuzz/corpus/partial"
write(P, "certified_1of2", partial("certified", 0, 2, [item(2, 3, 2, 2), item(2, 3, 2, 2)]))
write(P, "synthetic_2of3", partial("synthetic", 1, 3, [share(2, 1, 4, 16, [(0, 1)])]))
write(P, "empty_0of1", partial("logit_store", 0, 1, []))
