#!/bin/bash
# Run from the repository root after `dotnet build -c Release`; each run writes runs/experiments/NAME/ and NAME.json (summary).
set -euo pipefail
# FedKSeed vs ComPEFT vs FedAvg-LoRA on the same federation shape (issue 8 comparison).
F=${F:-"dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll"}
OUT=${OUT:-runs/experiments}
COMMON="--clients 20 --clients-per-round 5 --rounds 8 --eval-every 8 --eval-examples 500 --generation-examples 64 --threads 1"
run() { name=$1; shift; [ -f $OUT/$name.json ] || $F simulate $COMMON --out $OUT/$name --json "$@" > $OUT/$name.json 2>/dev/null; }
mkdir -p $OUT
run fedkseed-full --local-steps 200 --trainable all --lr 1e-5
run fedkseed-norm --local-steps 200 --trainable norm --lr 2e-2
run cmp-fedavg-lora --method compeft --local-steps 20 --batch-size 4 --lr 3e-3 --lora-targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --aggregate mean --uncompressed
run cmp-compeft-5 --method compeft --local-steps 20 --batch-size 4 --lr 3e-3 --lora-targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --aggregate mean --density 0.05
