#!/usr/bin/env python3
"""Sends N GET requests to 127.0.0.1:PORT on one keep-alive connection and checks each is a 200.

usage: http-requests.py PORT TEMPLATE N

TEMPLATE is a path in which {lon} {lat} become a random point inside the synthetic zones'
extent in CRS84 ({east} {north}: the far corner of a 2 km box from there) and {x} {y} one
in EPSG:32632 (the same seeded sequence on every run, so that
two profiles of one binary send the same requests).
"""
import http.client
import random
import sys


def main():
    port, template, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rng = random.Random(42)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for _ in range(n):
        lon, lat = 9.65 + rng.random() * 1.05, 45.08 + rng.random() * 0.36
        path = template.format(
            lon=f"{lon:.6f}",
            lat=f"{lat:.6f}",
            # The far corner of a box of the size of the benchmark's bbox page (about 2 km).
            east=f"{lon + 0.0258:.6f}",
            north=f"{lat + 0.0178:.6f}",
            x=f"{550000 + rng.random() * 85000:.1f}",
            y=f"{4990000 + rng.random() * 45000:.1f}",
        )
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            sys.exit(f"{path}: {response.status} {body[:300]!r}")


main()
