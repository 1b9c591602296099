#!/usr/bin/env bash
# Task embeddings from the three RefCOCO adapters (pi-Tuning names them refcoco*_adapter.pt).
ckpt_dir="../../checkpoints"
adapters="${ckpt_dir}/refcoco_adapter.pt,${ckpt_dir}/refcocoplus_adapter.pt"

python3 ../../train.py ../../dataset/refcoco_data/refcoco_train.tsv \
    --restore-file ../../checkpoints/ofa_large.pt \
    --combine-adapter-path=${adapters},${ckpt_dir}/refcocog_adapter.pt \
    --init-task-embedding="$HOME/embeddings/init.pt" \
    --clip-model-path=${ckpt_dir}/clip/ViT-B-16.pt \
    --output-dir=../../task_embeddings
