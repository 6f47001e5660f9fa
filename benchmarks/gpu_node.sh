#!/usr/bin/env bash
# The GPU-node measurements of docs/performance.md, docs/pearl.md and docs/sd.md in one run:
#   bash benchmarks/gpu_node.sh OUT_DIR [BEFORE_TREE]
# Each stage writes OUT_DIR/<stage>.log and has its own time limit, so one slow stage leaves the
# others' figures. BEFORE_TREE (optional): a checkout of commit fd251c4^ (PEARL's update before its
# meta-batches moved to the learner's device), timed the same way for the before/after comparison.
# On the H200 node of 2026-12-04 (MuJoCo 650-710 us per env step) the 15-worker scaling stage needs
# ~3 min per method: give it 10 minutes of device time on its own, or fewer methods. study_cost.py
# validates the study config with Snakemake: install the project's requirements there first.
set -u
out=${1:?usage: bash benchmarks/gpu_node.sh OUT_DIR [BEFORE_TREE]}
before=${2:+$(realpath "$2")}
mkdir -p "$out"
site=${PYTHONPATH:-}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${site:+:$site}"
stage() {  # stage NAME SECONDS COMMAND...
    local name=$1 limit=$2; shift 2
    echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s): $*" | tee -a "$out/stages.log"
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    echo "   rc $? at $(date -u +%H:%M:%S)" | tee -a "$out/stages.log"
}
{ nproc; nvidia-smi -L; python3 -c "import torch, mujoco, metaworld; print(torch.__version__, mujoco.__version__)"; } \
    > "$out/machine.log" 2>&1
stage cuda_transfers 90 python3 benchmarks/cuda_transfers.py --methods himeta-cd himeta-st sd pearl peach
stage sampler_scaling 600 python3 benchmarks/sampler_scaling.py --methods himeta-cd sd pearl \
    --workers 15 --cores 16 32 --probe-repeats 0
stage update_cuda 70 python3 benchmarks/iteration_cost.py --method himeta-cd sd --device cuda --iterations 2
stage peach_update_after 40 python3 benchmarks/iteration_cost.py --method peach --device cuda \
    --iterations 2 --set gradient_steps=100
stage pearl_update_after 40 python3 benchmarks/iteration_cost.py --method pearl --device cuda \
    --iterations 2 --set gradient_steps=100
if [ -n "$before" ]; then
    stage pearl_update_before 60 env PYTHONPATH="$before${site:+:$site}" bash -c "cd '$before' && python3 benchmarks/iteration_cost.py \
        --method pearl --device cuda --iterations 2 --set gradient_steps=100"
fi
stage study_cost 150 python3 benchmarks/study_cost.py --config config/paper.yaml --device cuda --cores 4 16
