#!/usr/bin/env bash
# Our GEMM and numpy/OpenBLAS back to back, shape by shape, at 1 and 2 threads (best and median GFLOP/s),
# so both see the same machine load. Usage (repo root): tests/Federated.Benchmarks/scripts/side_by_side.sh [threads...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
dotnet build tests/Federated.Benchmarks/Federated.Benchmarks.csproj -c Release -v q -nologo >/dev/null
bench=tests/Federated.Benchmarks/bin/Release/net10.0/Federated.Benchmarks.dll
shapes=("AB 256 256 256" "AB 512 512 512" "AB 1024 1024 1024" "AB 2048 2048 2048"
  "ABt 1024 512 512" "ABt 1024 512 1376" "ABt 1024 1376 512" "ABt 1024 512 8192"
  "AB 1024 512 512" "AB 1024 1376 512" "AtB 512 1024 512" "AtB 1376 1024 512"
  "ABt 1 512 8192" "ABt 1024 8 512" "ABt 1024 512 8"
  "ABt 1 512 512" "ABt 1 512 1376" "ABt 1 1376 512" "ABt 4 512 512")
echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
for t in "${@:-1 2}"; do
  for s in "${shapes[@]}"; do
    echo "ours     $(dotnet "$bench" shape $s "$t")"
    echo "openblas $(/usr/bin/python3 tests/Federated.Benchmarks/scripts/sgemm_openblas.py "$t" $s)"
  done
done
echo "# end $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
