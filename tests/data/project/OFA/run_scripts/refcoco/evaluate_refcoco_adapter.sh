#!/usr/bin/env bash
# Evaluates what train_refcoco_adapter.sh wrote, and the baseline on the base model.
path=./refcoco_checkpoints/adapter/checkpoint_best.pt
python3 ../../evaluate.py ../../dataset/refcoco_data/refcoco_val.tsv --path=${path} --task=refcoco
python3 ../../evaluate.py ../../dataset/refcoco_data/refcoco_val.tsv --path ../../checkpoints/ofa_base.pt --task=refcoco
