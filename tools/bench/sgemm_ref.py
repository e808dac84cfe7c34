"""Reference: float32 matrix-product speed of this machine's BLAS (OpenBLAS through numpy), the practical
compute ceiling that the project's own GEMM is measured against in the same run.
Needs: apt-get install python3-numpy libopenblas0-pthread.   Usage: python3 sgemm_ref.py [n ...]
Kept in Federated as tools/bench/sgemm_ref.py: run it beside `federated bench` (docs/performance.md)."""
import os
# Use the CPU's best OpenBLAS kernels: some machines pin OPENBLAS_CORETYPE (e.g. to Haswell = AVX2 only),
# which would understate the reference. It must be cleared before numpy/torch load OpenBLAS.
for _k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"): os.environ.pop(_k, None)
import sys, time
import numpy as np
for n in [int(a) for a in sys.argv[1:]] or [256, 512, 1024, 2048]:
    a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
    a @ b
    t = time.perf_counter(); r = 0
    while time.perf_counter() - t < 2: a @ b; r += 1
    s = (time.perf_counter() - t) / r
    print(f"sgemm n={n}: {s*1000:.2f} ms = {2*n**3/s/1e9:.1f} GFLOP/s")
