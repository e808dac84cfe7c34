#!/bin/bash
# FedKSeed on trainable subsets (tools/experiments/fedkseed_subsets.md). Run from the repository root after
#   dotnet build cli/Federated.Cli/Federated.Cli.csproj -c Release -m:1 -o /tmp/fedcli-zo
# (or set F). Every run: the setting, 200 clients, Dirichlet(0.5) over categories, 10 per round, K = 4096,
# ε = 5e-4, τ = 50 ZO steps of batch 1, then `eval --compare` against the base model: on the first 500 test records
# with 300 greedy generations per task, and on the whole test split (4,828 records, 2,414 generations per task).
# One process at a time, 1 thread; about 40 minutes in all on the 2-core machine.
set -euo pipefail
F=${F:-"dotnet /tmp/fedcli-zo/federated.dll"}
BASE=models/wordnet-base
OUT=runs/experiments
mkdir -p $OUT

compare() {  # name, generations per task: paired eval on the first 500 test records and on the whole split
  $F eval --threads 1 --model $OUT/$1/model --compare $BASE --max-examples 500 --generation-examples $(( $2 < 300 ? $2 : 300 )) --json > $OUT/$1.eval.json
  $F eval --threads 1 --model $OUT/$1/model --compare $BASE --max-examples 0 --generation-examples $2 --json > $OUT/$1.evalall.json
}

run() {  # name, generations per task, then simulate options
  local name=$1 generations=$2; shift 2
  $F simulate --threads 1 --eval-every 5 --eval-examples 200 --generation-examples 0 --out $OUT/$name --json "$@" > $OUT/$name.json
  compare $name $generations
}

# (b) the setting, 30 rounds: all RMSNorm weights (d = 2,304) and the screen's best subset, the final norm
# plus the attention-input norms (d = 1,280); each also with a second seed.
run zo-norm-r30 2414 --trainable norm --lr 2e-2 --rounds 30
run zo-finalinput-r30 2414 --trainable '^model\.norm|input_layernorm' --lr 2e-2 --rounds 30
run zo-norm-r30-seed7 2414 --trainable norm --lr 2e-2 --rounds 30 --seed 7
run zo-finalinput-r30-seed7 2414 --trainable '^model\.norm|input_layernorm' --lr 2e-2 --rounds 30 --seed 7

# (c) full-parameter (d = 3.95M): federated at a low η, and centralised ZO controls with the same 5,000 steps
# (one client holding the whole train split, 10 rounds of 500 steps), full-parameter and norm-only.
run zo-full-3e-6 0 --trainable all --lr 3e-6 --rounds 10
run zo-full-central-3e-6 0 --trainable all --lr 3e-6 --clients 1 --clients-per-round 1 --partition iid --rounds 10 --local-steps 500
run zo-full-central-1e-5 0 --trainable all --lr 1e-5 --clients 1 --clients-per-round 1 --partition iid --rounds 10 --local-steps 500
run zo-norm-central 300 --trainable norm --lr 2e-2 --clients 1 --clients-per-round 1 --partition iid --rounds 10 --local-steps 500
for lr in 2e-3 5e-3; do
  run zo-norm-central-$lr 0 --trainable norm --lr $lr --clients 1 --clients-per-round 1 --partition iid --rounds 10 --local-steps 500
done
