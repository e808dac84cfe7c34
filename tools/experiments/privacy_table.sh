#!/bin/bash
# The README privacy table (issue 9). Run from the repository root after `dotnet build -c Release`.
# Part 1: single-step audits (token-set, inversion, ZO columns). Part 2: canaries exposed (MIA, ε, eval-loss columns).
set -euo pipefail
F=${F:-"dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll"}
mkdir -p runs/privacy
# The audits' settings, explicit since audit shares every method default with simulate (and the model's federation.json):
# ComPEFT single-step updates (τ = 1 AdamW step of B = 2, lr 5e-3) on q_proj/v_proj, mean merge; FedKSeed K = 1024, η 3e-5
# on every tensor, τ = 10 (single-step part) or 20 (MIA part).
CP="--method compeft --batch-size 2 --lr 5e-3 --aggregate mean --lora-targets q_proj,v_proj"
FK="--method fedkseed --seeds 1024 --lr 3e-5 --trainable all"
one() { name=$1; shift; local steps=1; [[ " $* " == *" fedkseed "* ]] && steps=10; $F audit "$@" --local-steps $steps --threads 1 --out runs/privacy/$name --json > runs/privacy/$name.json; }
mia() { name=$1; shift; $F audit "$@" --probes mia --local-steps 20 --rounds 4 --clients-per-round 4 --canary-copies 200 --threads 1 --out runs/privacy/$name --json > runs/privacy/$name.json; }
one fedavg-lora $CP --uncompressed
one compeft-5 $CP --density 0.05
one compeft-1 $CP --density 0.01
one compeft-5-dp $CP --density 0.05 --dp-clip 1 --dp-noise 0.30
one fedkseed $FK
one fedkseed-dp $FK --dp-clip 1.33 --dp-noise 0.31
one compeft-5-secagg $CP --density 0.05 --secure-aggregation
one fedkseed-secagg $FK --secure-aggregation
mia mia-fedavg-lora $CP --uncompressed
mia mia-compeft-5 $CP --density 0.05
mia mia-compeft-1 $CP --density 0.01
mia mia-compeft-5-dp $CP --density 0.05 --dp-clip 1 --dp-noise 0.35
mia mia-fedkseed $FK
mia mia-fedkseed-dp $FK --dp-clip 1.33 --dp-noise 0.33
mia mia-compeft-5-secagg $CP --density 0.05 --secure-aggregation
mia mia-fedkseed-secagg $FK --secure-aggregation
