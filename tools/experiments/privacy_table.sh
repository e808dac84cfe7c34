#!/bin/bash
# The README privacy table (issue 9). Run from the repository root after `dotnet build -c Release`.
# Part 1: single-step audits (token-set, inversion, ZO columns). Part 2: canaries exposed (MIA, ε, eval-loss columns).
set -euo pipefail
F=${F:-"dotnet cli/Federated.Cli/bin/Release/net10.0/federated.dll"}
mkdir -p runs/privacy
one() { name=$1; shift; $F audit "$@" --threads 1 --out runs/privacy/$name --json > runs/privacy/$name.json; }
mia() { name=$1; shift; $F audit "$@" --probes mia --local-steps 20 --rounds 4 --clients-per-round 4 --canary-copies 200 --threads 1 --out runs/privacy/$name --json > runs/privacy/$name.json; }
one fedavg-lora --method compeft --uncompressed
one compeft-5 --method compeft --density 0.05
one compeft-1 --method compeft --density 0.01
one compeft-5-dp --method compeft --density 0.05 --dp-clip 1 --dp-noise 0.30
one fedkseed --method fedkseed
one fedkseed-dp --method fedkseed --dp-clip 1.33 --dp-noise 0.31
one compeft-5-secagg --method compeft --density 0.05 --secure-aggregation
one fedkseed-secagg --method fedkseed --secure-aggregation
mia mia-fedavg-lora --method compeft --uncompressed
mia mia-compeft-5 --method compeft --density 0.05
mia mia-compeft-1 --method compeft --density 0.01
mia mia-compeft-5-dp --method compeft --density 0.05 --dp-clip 1 --dp-noise 0.35
mia mia-fedkseed --method fedkseed
mia mia-fedkseed-dp --method fedkseed --dp-clip 1.33 --dp-noise 0.33
mia mia-compeft-5-secagg --method compeft --density 0.05 --secure-aggregation
mia mia-fedkseed-secagg --method fedkseed --secure-aggregation
