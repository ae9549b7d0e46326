#!/bin/bash
# ncu figures of the tensor-core kernels of the MLP step (on the GPU machine).
#
#   bench/gpu/ncu_mma.sh MLP_DIR OUT_DIR [KERNEL_REGEX]
#
# MLP_DIR: built by `bench/gpu/mlp_step.py build MLP_DIR` (here). Profiles
# one f16 step's kernels matching KERNEL_REGEX (default: the forward,
# backward-dX and dW GEMMs of one hidden layer, the first layer's forward,
# the logits' dX and the first layer's dW) and writes OUT_DIR/ncu.csv.
# ncu locks the clocks to base: its times are longer than the profiler's.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mlp=$1
out=$2
kernels=${3:-'step_mma(0|1|5|7|8|13)_'}
mkdir -p "$out"
metrics=gpu__time_duration.sum
metrics+=,sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active
metrics+=,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active
metrics+=,sm__throughput.avg.pct_of_peak_sustained_elapsed
metrics+=,dram__throughput.avg.pct_of_peak_sustained_elapsed
metrics+=,sm__warps_active.avg.pct_of_peak_sustained_active
metrics+=,launch__registers_per_thread,launch__block_size
metrics+=,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum
metrics+=,smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio
metrics+=,smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio
metrics+=,smsp__average_warps_issue_stalled_wait_per_issue_active.ratio
export PYTHONPATH="$root/python" MPT_CUDA_RUNTIME="$mlp/libmpt_cuda_runtime.so"
ncu --target-processes all -k "regex:$kernels" --launch-count 6 --csv \
  --metrics "$metrics" \
  python3 "$root/bench/gpu/mlp_step.py" run "$mlp" "$out/mlp.jsonl" \
  --only mlp_step_f16 --reps 1 --warmup 0 >"$out/ncu.csv" 2>"$out/ncu.err"
echo "ncu exit $?"
grep -c '"step_mma' "$out/ncu.csv"
tail -3 "$out/ncu.err"
