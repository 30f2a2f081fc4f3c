#!/usr/bin/env python3
"""Splits the instructions of a callgrind dump into the stages of a request.

usage: callgrind-stages.py DUMP NAME REQUESTS [DUMP NAME REQUESTS ...]

Every instruction is counted once, in the function it was executed in (its exclusive
cost, read from the dump), and each function goes to one stage by the source it comes from: the file
callgrind names for it (where inlined code came from), or, for code inlined from the
standard library, the function it was inlined into. The stages therefore add up to the
total. Prints instructions per request by stage, one column per dump.
"""
import re
import subprocess
import sys

# (stage, patterns): the first stage with a pattern found in "file:function" wins.
STAGES = [
    ("selection: R-tree and exact tests", ["territorio::filter::Filter::select", "rstar-", "rstar::",
                                            "geo-0", "geo-types-", "geo::", "geo_types::", "robust-",
                                            "robust::", "smallvec", "src/analysis/",
                                            "territorio::analysis::", "src/store",
                                            "territorio::store::", "territorio::api::items::select"]),
    ("CQL2 filter: parse and compile", ["src/filter/", "territorio::filter::", "cql2-", "cql2::",
                                        "pest-", "pest::", "wkt-", "wkt::"]),
    ("CRS: parameters, PROJ transforms", ["src/crs/", "territorio::crs::", "libproj", "proj-0",
                                          "proj::", "libm.so"]),
    ("feature writing (GeoJSON)", ["src/geojson_io/", "territorio::geojson_io::", "ryu-", "ryu::",
                                   "itoa-", "itoa::"]),
    ("API: parameters, links, answer", ["src/api/items.rs", "src/api/http/query.rs",
                                        "src/api/http/request.rs", "src/api/http/respond.rs",
                                        "src/api/http/negotiate.rs", "src/api/landing.rs",
                                        "src/time.rs", "serde_json", "serde_core", "serde-1",
                                        "form_urlencoded", "percent_encoding", "percent-encoding-",
                                        "territorio::api::items", "territorio::api::http::query",
                                        "territorio::api::http::request", "territorio::api::http::respond",
                                        "territorio::time"]),
    ("middleware: ETag, errors, OPTIONS", ["src/api/http/middleware.rs", "territorio::api::http::middleware"]),
    ("middleware: compression", ["tower-http-0.6.11/src/compression", "tower-http-0.6.11/src/content_encoding",
                                 "tower_http::compression", "tower_http::content_encoding"]),
    ("middleware: CORS", ["tower-http-0.6.11/src/cors", "tower_http::cors"]),
    ("middleware: tracing", ["tower-http-0.6.11/src/trace", "tracing-", "tower_http::trace", "tracing::",
                             "tracing_core::", "tracing_subscriber::"]),
    ("middleware: time limit", ["tower-http-0.6.11/src/timeout", "tower_http::timeout"]),
    ("HTTP/1 parsing and writing (hyper)", ["hyper-1", "httparse-", "hyper_util", "hyper::"]),
    ("routing and handler plumbing (axum, tower)", ["axum-", "axum_core", "tower-0", "tower_service",
                                                    "futures-", "matchit-", "axum::", "tower::",
                                                    "http-1", "http-body", "bytes-1", "sync_wrapper"]),
    ("runtime: tasks, I/O, timers (tokio)", ["tokio-", "tokio::", "mio-", "epoll", "libc.so"]),
]
# Checked before the stages: allocation and copies are their own lines whichever file names them.
FIRST = [
    ("memory allocation (malloc, free)", ["malloc/", "arena.c", "__rust_alloc", "__rust_dealloc",
                                          "__rust_realloc", "__rdl_", "libmimalloc-sys",
                                          "mimalloc::", "mi_malloc", "mi_free", "_mi_"]),
    ("memory copies (memcpy, memmove)", ["memmove", "memcpy", "memset", "memcmp"]),
]
OTHER = "other (hashing, std, kernel entry points)"


def classify(name):
    for stage, patterns in FIRST:
        if any(p in name for p in patterns):
            return stage
    file, _, function = name.partition(":")
    if file == "???":
        # No debug information (a system library): its object names it.
        function = name
    # Code inlined from the standard library counts where it was inlined.
    subject = function if file.startswith("/rustc/") else name
    for stage, patterns in STAGES:
        if any(p in subject for p in patterns):
            return stage
    return OTHER


def stages(path):
    """Exclusive cost per (file, function), read from the dump itself: cost lines count for
    the current function in the current file (`fi=`/`fe=` name code inlined from another
    file); the line after `calls=` is the inclusive cost of a call, which is skipped."""
    names = {"fl": {}, "fn": {}, "ob": {}}
    by_stage = {}
    total = 0
    file = base_file = function = obj = ""
    skip_next = False

    def name(kind, text):
        m = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not m:
            return text
        table = names[kind if kind in ("fn", "ob") else "fl"]
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1), "?")

    summary = None
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                summary = int(line.split()[1])
            line = line.rstrip("\n")
            if skip_next:
                skip_next = False
                continue
            key, eq, value = line.partition("=")
            if eq and key in ("fl", "fi", "fe"):
                file = name("fl", value)
                if key == "fl":
                    base_file = file
                continue
            if eq and key == "fn":
                function = name("fn", value)
                file = base_file
                continue
            if eq and key in ("cfl", "cfi", "cfn"):
                # Callee names: only remembered (compressed names are defined on first use).
                name("fn" if key == "cfn" else "fl", value)
                continue
            if eq and key in ("ob", "cob"):
                value = name("ob", value)
                if key == "ob":
                    obj = value
                continue
            if eq and key == "calls":
                skip_next = True
                continue
            parts = line.split()
            if len(parts) == 2 and re.match(r"^[+-]?\d+$|^\*$", parts[0]) and parts[1].isdigit():
                cost = int(parts[1])
                total += cost
                stage = classify(f"{file}:{function} [{obj}]")
                by_stage[stage] = by_stage.get(stage, 0) + cost
    # The cost lines should add up to the summary line.
    if summary is not None and abs(total - summary) > 0.01 * summary:
        # Seen when instrumentation is switched on and off around the measured requests: the
        # summary line then disagrees from run to run while the cost lines agree to 0.1 %.
        print(f"note: {path}: cost lines {total:,}, summary line {summary:,}", file=sys.stderr)
    return total, by_stage


def main():
    args = sys.argv[1:]
    if not args or len(args) % 3:
        sys.exit(__doc__)
    columns = []
    for i in range(0, len(args), 3):
        path, name, n = args[i], args[i + 1], int(args[i + 2])
        total, by_stage = stages(path)
        columns.append((name, n, total, by_stage))
    order = [
        "HTTP/1 parsing and writing (hyper)", "routing and handler plumbing (axum, tower)",
        "runtime: tasks, I/O, timers (tokio)", "middleware: ETag, errors, OPTIONS",
        "middleware: compression", "middleware: CORS", "middleware: tracing",
        "middleware: time limit", "API: parameters, links, answer",
        "CQL2 filter: parse and compile", "CRS: parameters, PROJ transforms",
        "selection: R-tree and exact tests", "feature writing (GeoJSON)",
    ]
    names = order + [s for s, _ in FIRST] + [OTHER]
    seen = []
    for s in names:
        if s not in seen:
            seen.append(s)
    width = max(len(s) for s in seen)
    print(f"{'instructions per request':{width}} " + " ".join(f"{c[0]:>20}" for c in columns))
    for s in seen:
        values = [c[3].get(s, 0) / c[1] for c in columns]
        if all(v < 50 for v in values):
            continue
        print(f"{s:{width}} " + " ".join(f"{v:>20,.0f}" for v in values))
    print(f"{'total':{width}} " + " ".join(f"{c[2] / c[1]:>20,.0f}" for c in columns))


main()
