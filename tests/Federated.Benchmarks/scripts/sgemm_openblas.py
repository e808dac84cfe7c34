"""numpy/OpenBLAS float32 GEMM on the same shapes as `Federated.Benchmarks quick`, reported the same way
(best call and median over ~1 s after warm-up), for side-by-side numbers in docs/performance.md.
Measurement tool only (never a dependency of product code or tests).
Needs: apt-get install python3-numpy libopenblas0-pthread. Usage: /usr/bin/python3 sgemm_openblas.py THREADS [OP M K N]
Clears OPENBLAS_CORETYPE (this machine pins Haswell = AVX2) so OpenBLAS picks its AVX-512 kernels."""
import os, sys
for _k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"): os.environ.pop(_k, None)
threads = sys.argv[1] if len(sys.argv) > 1 else "2"
os.environ["OPENBLAS_NUM_THREADS"] = threads
import time
import numpy as np

squares = [("AB", n, n, n) for n in (256, 512, 1024, 2048)]
model = [("ABt", 1024, 512, 512), ("ABt", 1024, 512, 1376), ("ABt", 1024, 1376, 512), ("ABt", 1024, 512, 8192),
         ("AB", 1024, 512, 512), ("AB", 1024, 1376, 512), ("AtB", 512, 1024, 512), ("AtB", 1376, 1024, 512),
         ("ABt", 1, 512, 8192), ("ABt", 1024, 8, 512), ("ABt", 1024, 512, 8)]
rng = np.random.default_rng(1234)
shapes = [(sys.argv[2], *map(int, sys.argv[3:6]))] if len(sys.argv) >= 6 else squares + model
for op, m, k, n in shapes:
    a = (rng.random((k, m) if op == "AtB" else (m, k), dtype=np.float32) - 0.5)
    b = (rng.random((n, k) if op == "ABt" else (k, n), dtype=np.float32) - 0.5)
    c = np.empty((m, n), dtype=np.float32)
    f = {"ABt": lambda: np.matmul(a, b.T, out=c), "AB": lambda: np.matmul(a, b, out=c),
         "AtB": lambda: np.matmul(a.T, b, out=c)}[op]
    t = time.perf_counter()
    while time.perf_counter() - t < 0.3: f()
    times = []
    t = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - t < 1.0 and len(times) < 10000):
        t0 = time.perf_counter(); f(); times.append(time.perf_counter() - t0)
    times.sort()
    best, med = times[0], times[len(times) // 2]
    print(f"threads={threads} {op:<3} m={m:5d} k={k:5d} n={n:5d}: {best*1e3:8.3f} ms  {2*m*n*k/best/1e9:6.1f} GFLOP/s (median {2*m*n*k/med/1e9:.1f})")
