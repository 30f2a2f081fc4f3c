#!/usr/bin/env python3
"""Compares the vector tiles of two servers tile by tile, for scripts/bench-martin.

Reads a list of tiles (`z x y` per line) and two URL templates with {z} {x} {y}, fetches each
tile from both, and decodes them with the small Mapbox Vector Tile reader below, written from
the MVT 2.1 specification (protobuf wire format: varints and length-delimited fields; a Tile
holds layers, a layer its features, keys and values, a feature its tags as pairs of indexes
into the keys and values, its geometry as commands). For each tile it compares the set of
values of one property (the zone's code) across all layers of the tile. A tile where every
feature that one server has and the other has not lies outside the tile's square (in its
buffer only) is counted apart: servers differ on whether the buffer takes features of its own,
and on the slivers at its outer edge. Those features are written to BUFFER_ONLY (lines
`z x y value server`), when given, for a check elsewhere.
Prints one line per other differing tile and a summary; exits 1 if any such tile is found.

Usage: tiles.py LIST URL_A URL_B PROPERTY [BUFFER_ONLY]
"""

import sys
import urllib.request


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def fields(buf):
    """(field number, wire type, value) of a protobuf message; value is bytes for wire type 2."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            length, i = varint(buf, i)
            value, i = buf[i : i + length], i + length
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def packed(buf):
    i, out = 0, []
    while i < len(buf):
        v, i = varint(buf, i)
        out.append(v)
    return out


def value_text(buf):
    """A Value message as text: string, or the number written as Python writes it."""
    import struct

    for number, wire, v in fields(buf):
        if number == 1:
            return v.decode()
        if number == 2:
            return repr(struct.unpack("<f", v)[0])
        if number == 3:
            return repr(struct.unpack("<d", v)[0])
        if number in (4, 5):
            return str(v)
        if number == 6:
            return str((v >> 1) ^ -(v & 1))
        if number == 7:
            return str(bool(v))
    return None


def geometry_box(buf):
    """The box (min x, min y, max x, max y) of a feature's geometry commands, in tile units."""
    cmds = packed(buf)
    i = x = y = 0
    xs, ys = [], []
    while i < len(cmds):
        cmd, count = cmds[i] & 7, cmds[i] >> 3
        i += 1
        if cmd in (1, 2):  # MoveTo, LineTo: zigzag-encoded deltas
            for _ in range(count):
                dx, dy = cmds[i], cmds[i + 1]
                i += 2
                x += (dx >> 1) ^ -(dx & 1)
                y += (dy >> 1) ^ -(dy & 1)
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def features(tile, name):
    """{value of property `name`: box of the geometry} of every feature of every layer."""
    out = {}
    for number, _, layer in fields(tile):
        if number != 3:
            continue
        keys, values, feats = [], [], []
        for n, _, v in fields(layer):
            if n == 3:
                keys.append(v.decode())
            elif n == 4:
                values.append(value_text(v))
            elif n == 2:
                feats.append(v)
        # A key may be listed more than once (PostGIS's parallel ST_AsMVT writes each worker's
        # keys): a tag matches by the key's name, not by its first index.
        for feature in feats:
            tags, box = [], None
            for n, _, v in fields(feature):
                if n == 2:
                    tags = packed(v)
                elif n == 4:
                    box = geometry_box(v)
            found = None
            for a in range(0, len(tags) - 1, 2):
                if keys[tags[a]] == name:
                    found = values[tags[a + 1]]
            out[found] = box
    return out


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read() if r.status == 200 else b""


def main():
    listing, url_a, url_b, name = sys.argv[1:5]
    buffer_only_file = open(sys.argv[5], "w") if len(sys.argv) > 5 else None
    tiles = [tuple(line.split()) for line in open(listing) if line.strip()]
    same = buffer_only = differ = count = 0
    for z, x, y in tiles:
        a = features(fetch(url_a.format(z=z, x=x, y=y)), name)
        b = features(fetch(url_b.format(z=z, x=x, y=y)), name)
        count += len(a)
        if a.keys() == b.keys():
            same += 1
            continue
        only_a = sorted(set(a) - set(b), key=str)
        only_b = sorted(set(b) - set(a), key=str)
        # A feature whose box lies outside the tile's square (0..4096) is in the tile only for
        # its buffer: a server may leave those out.
        outside = lambda box: box is None or box[2] <= 0 or box[3] <= 0 or box[0] >= 4096 or box[1] >= 4096
        if all(outside(a[k]) for k in only_a) and all(outside(b[k]) for k in only_b):
            buffer_only += 1
            if buffer_only_file:
                for server, keys in (("first", only_a), ("second", only_b)):
                    for k in keys:
                        print(z, x, y, k, server, file=buffer_only_file)
            continue
        differ += 1
        print(f"  tile {z}/{x}/{y}: {len(a)} vs {len(b)} features; only in the first: {only_a[:5]}; only in the second: {only_b[:5]}")
    print(f"  {len(tiles)} tiles, {count} features in the first server's: {same} hold the same features;"
          f" {buffer_only} differ only by features that lie in the buffer, outside the tile;"
          f" {differ} differ otherwise")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
