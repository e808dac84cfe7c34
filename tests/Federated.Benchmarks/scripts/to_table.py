"""Turns side_by_side.sh output (stdin) into the markdown table of docs/performance.md (GFLOP/s)."""
import re, sys
lines = sys.stdin.read().splitlines()
rows = {}
for line in lines:
    m = re.match(r'(ours|openblas)\s+threads=(\d+) (\w+)\s+m=\s*(\d+) k=\s*(\d+) n=\s*(\d+):\s+([\d.]+) ms\s+([\d.]+) GFLOP/s \(median ([\d.]+)\)', line)
    if m:
        who, t, op, mm, k, n, _, best, med = m.groups()
        rows.setdefault((t, op, mm, k, n), {})[who] = (float(best), float(med))
print("| threads | op | m | k | n | ours best | OpenBLAS best | ratio | ours median | OpenBLAS median |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (t, op, mm, k, n), v in rows.items():
    if "ours" in v and "openblas" in v:
        o, b = v["ours"], v["openblas"]
        print(f"| {t} | {op} | {mm} | {k} | {n} | {o[0]:.1f} | {b[0]:.1f} | {o[0] / b[0]:.2f} | {o[1]:.1f} | {b[1]:.1f} |")
