#!/bin/bash
# Run from the repository root after `dotnet build -c Release`; each run writes runs/experiments/NAME/ and NAME.json (summary).
set -euo pipefail
# ComPEFT density × aggregation × error-feedback table (issue 8).
F="dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll"
COMMON="--method compeft --clients 20 --clients-per-round 5 --rounds 8 --local-steps 20 --batch-size 4 --lr 3e-3 --lora-targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --eval-every 8 --eval-examples 500 --generation-examples 64 --threads 1"
run() { name=$1; shift; [ -f runs/experiments/$name.json ] || $F simulate $COMMON --out runs/experiments/$name --json "$@" > runs/experiments/$name.json 2>/dev/null; }
mkdir -p runs/experiments
for agg in mean ties; do run dense-$agg --uncompressed --aggregate $agg; done
for d in 0.05 0.01 0.1 0.2; do for agg in mean ties; do for ef in no ef; do
  if [ $ef = ef ]; then run d$d-$agg-ef --density $d --aggregate $agg --error-feedback; else run d$d-$agg --density $d --aggregate $agg; fi
done; done; done
# Rouge-L and accuracy on 300 greedy generations per task (the simulations' own 64 are too few to rank the rows):
for run in runs/experiments/*/adapter; do
  name=$(basename "$(dirname "$run")")
  [ -f runs/experiments/gen300-$name.json ] || dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll eval --adapter "$run" \
    --max-examples 1 --generation-examples 300 --threads 1 --json > runs/experiments/gen300-$name.json
done
[ -f runs/experiments/gen300-base.json ] || dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll eval --max-examples 1 --generation-examples 300 --threads 1 --json > runs/experiments/gen300-base.json
