#!/usr/bin/env bash
# Adapter tuning on RefCOCO. Run from OFA/run_scripts/refcoco/ (a test fixture in the style of
# pi-Tuning's scripts; the paths are what matters here, not the training).
export MASTER_PORT=6051

data_dir=../../dataset/refcoco_data
data=${data_dir}/refcoco_train.tsv,${data_dir}/refcoco_val.tsv
restore_file=../../checkpoints/ofa_large.pt
selected_cols=0,4,2,3
save_dir=./refcoco_checkpoints/adapter   # the training writes here
mkdir -p $save_dir

# --restore-file=../../checkpoints/commented_out.pt is not read: it is a comment
python3 -m torch.distributed.launch --nproc_per_node=1 --master_port=${MASTER_PORT} ../../train.py \
    $data \
    --selected-cols=${selected_cols} \
    --restore-file=${restore_file} \
    --reset-optimizer --reset-dataloader --reset-meters \
    --adapter-dim 128 \
    --save-dir=${save_dir} \
    --keep-last-epochs 1
