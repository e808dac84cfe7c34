#!/bin/bash
# FedKSeed on trainable subsets (tools/experiments/fedkseed_subsets.md). Run from the repository root after
#   dotnet build cli/Federated.Cli/Federated.Cli.csproj -c Release -m:1 -o /tmp/fedcli-zo
# (or set F). Every run: the setting, 200 clients, Dirichlet(0.5) over categories, 10 per round, K = 4096,
# ε = 5e-4, τ = 50 ZO steps of batch 1, then `eval --compare` against the base model on the first 500 test records
# and 300 greedy generations per task (paired differences with standard errors). One process at a time, 1 thread.
set -euo pipefail
F=${F:-"dotnet /tmp/fedcli-zo/federated.dll"}
BASE=models/wordnet-base
OUT=runs/experiments
mkdir -p $OUT

run() {  # name, then simulate options
  local name=$1; shift
  $F simulate --threads 1 --eval-every 5 --generation-examples 0 --out $OUT/$name --json "$@" > $OUT/$name.json
  $F eval --threads 1 --model $OUT/$name/model --compare $BASE --max-examples 500 --generation-examples ${GENERATIONS:-300} --json > $OUT/$name.eval.json
}

# (b) the setting, 30 rounds: all RMSNorm weights (d = 2,304) and the screen's best subset, the final norm
# plus the attention-input norms (d = 1,280).
run zo-norm-r30 --trainable norm --lr 2e-2 --rounds 30
run zo-finalinput-r30 --trainable '^model\.norm|input_layernorm' --lr 2e-2 --rounds 30

# (c) full-parameter (d = 3.95M): federated at a low η, and the centralised ZO control with the same 5,000 steps
# (one client holding the whole train split, 10 rounds of 500 steps).
GENERATIONS=0 run zo-full-3e-6 --lr 3e-6 --rounds 10
GENERATIONS=0 run zo-full-central-3e-6 --lr 3e-6 --clients 1 --clients-per-round 1 --partition iid --rounds 10 --local-steps 500
