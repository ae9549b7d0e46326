#!/bin/bash
# Runs on the GPU machine: the memory-bound kernels' figures and checks in
# one call, over directories built here.
#
#   bench/gpu/elementwise.sh OUT [bw=DIR] [check=DIR]... [tf=DIR]...
#                                [mlp=DIR]... [tfc=DIR]...
#
#   bw=DIR     bench/gpu/bandwidth.py run DIR (kernel time and GB/s of each
#              variant beside torch and the copy bandwidth)
#   check=DIR  bench/gpu/check.py DIR: cases built by prepare.py, against
#              their float64 / CPU-path references (and PyTorch)
#   tf=DIR     bench/gpu/transformer_step.py run DIR --no-compile
#   tfc=DIR    the same with torch.compile beside it
#   mlp=DIR    bench/gpu/mlp_step.py run DIR
#
# Each writes its JSON lines and log under OUT; the exit status is the
# number of parts that failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
shift
mkdir -p "$out"
export PYTHONPATH="$root/python:$root/bench/gpu" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader \
  | tee "$out/gpu.txt"
failed=0
for arg in "$@"; do
  kind=${arg%%=*}
  dir=$(cd "${arg#*=}" && pwd)
  name=$(basename "$dir")
  export MPT_CUDA_RUNTIME="$dir/libmpt_cuda_runtime.so"
  echo "== $kind $name" | tee -a "$out/run.log"
  case $kind in
    bw) python3 "$root/bench/gpu/bandwidth.py" run "$dir" "$out/bandwidth.jsonl" ;;
    check) python3 "$root/bench/gpu/check.py" "$dir" --json "$out/check-$name.jsonl" \
             --markdown "$out/check-$name.md" ;;
    tf) python3 "$root/bench/gpu/transformer_step.py" run "$dir" \
          "$out/transformer-$name.jsonl" --no-compile ;;
    tfc) python3 "$root/bench/gpu/transformer_step.py" run "$dir" \
           "$out/transformer-$name.jsonl" ;;
    mlp) python3 "$root/bench/gpu/mlp_step.py" run "$dir" "$out/mlp-$name.jsonl" ;;
    *) echo "unknown part $arg"; false ;;
  esac > >(tee "$out/$kind-$name.log") 2>&1
  status=$?
  echo "== $kind $name: exit $status" | tee -a "$out/run.log"
  [ $status -eq 0 ] || failed=$((failed + 1))
done
exit $failed
