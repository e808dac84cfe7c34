#!/bin/bash
# Run from the repository root after `dotnet build -c Release`. FedKSeed on the built-in task (200 clients, Dirichlet 0.5,
# 10 per round): full-parameter quick start, RMSNorm-only (uniform and Pro), and the 1,000-client memory check.
set -euo pipefail
F="dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll"
mkdir -p runs/experiments
$F simulate --threads 1 --out runs/experiments/fedkseed-quickstart --json > runs/experiments/fedkseed-quickstart.json
$F simulate --threads 1 --trainable norm --lr 2e-2 --rounds 30 --eval-every 5 --eval-examples 200 --generation-examples 64 --out runs/experiments/fedkseed-norm-r30 --json > runs/experiments/fedkseed-norm-r30.json
$F simulate --threads 1 --trainable norm --lr 2e-2 --rounds 30 --eval-every 5 --eval-examples 200 --generation-examples 64 --pro --out runs/experiments/fedkseed-norm-r30-pro --json > runs/experiments/fedkseed-norm-r30-pro.json
/usr/bin/time -v $F simulate --clients 1000 --clients-per-round 10 --rounds 2 --local-steps 20 --trainable all --lr 5e-6 --eval-examples 200 --generation-examples 0 --threads 1 --out runs/experiments/scale1000 --json 2>&1 >/dev/null | grep "Maximum resident"
/usr/bin/time -v $F eval --max-examples 200 --threads 1 --json 2>&1 >/dev/null | grep "Maximum resident"
