#!/usr/bin/env bash
# A test fixture in the style of scripts found in the wild: run from anywhere, paths found from the
# script's own folder, defaults a user can override from the environment, a here document of Python.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
CKPT_DIR=${CKPT_DIR:-$ROOT/checkpoints}
RESTORE=${RESTORE:-"${CKPT_DIR}/ofa_large.pt"}
: "${ADAPTER:=${CKPT_DIR}/refcoco_adapter.pt}"
echo 'Single quotes keep $CKPT_DIR/literal.pt as it is'

python3 "${ROOT}/train.py" \
    --restore-file="${RESTORE}" \
    --adapter-path "$ADAPTER" \
    --vqgan-model-path=$CKPT_DIR/vqgan/last.ckpt \
    --save-dir="${ROOT}/runs/caption"  # --restore-file=${CKPT_DIR}/commented.pt

python3 - <<EOF
import torch
state = torch.load("${CKPT_DIR}/ofa_base.pt", map_location="cpu")
torch.save(state, "${ROOT}/runs/caption/converted.pt")
EOF

cat <<'CONFIG' > "${ROOT}/runs/config.yaml"
restore_file: ${CKPT_DIR}/not_expanded.pt
CONFIG
