#!/usr/bin/env python3
import subprocess, sys, re
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True, text=True).stdout
total = None
for line in out.splitlines():
    m = re.match(r"\s*([\d,]+).*PROGRAM TOTALS", line)
    if m:
        total = int(m.group(1).replace(",", ""))
print(f"{name}: {total/n:,.0f} instructions per request")
open(path + ".txt", "w").write(out)
