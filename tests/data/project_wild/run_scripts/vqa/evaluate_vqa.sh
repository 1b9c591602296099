#!/bin/bash
cd "$(dirname "$0")"
base=$PWD/../../checkpoints
LOG="$(date +%F).log"
ARGS="--restore-file=${base}/ofa_huge.pt
      --fp16 --beam=5"
python3 ../../evaluate.py $ARGS > "$LOG"
models=(
    ../../checkpoints/ofa_tiny.pt
    ../../checkpoints/ofa_medium.pt
)
for model in "${models[@]}"; do
    python3 ../../evaluate.py --path="$model"
done
