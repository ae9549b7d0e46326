#!/bin/bash
# Runs on the GPU machine: several checks and benchmarks in one call, over
# directories built here, with everything they write bundled into one
# archive (the device tool brings back few files).
#
#   bench/gpu/runall.sh OUT PART...
#
#   bw=DIR     bench/gpu/bandwidth.py run DIR: kernel time and GB/s of each
#              variant beside torch and the copy bandwidth
#   check=DIR  bench/gpu/check.py DIR: cases built by prepare.py against
#              their float64 / CPU-path references (and PyTorch)
#   tb=DIR     bench/gpu/torch_buffers.py DIR: steps called with torch CUDA
#              tensors (bit-identical to the numpy path, errors, streams,
#              leaks, call time)
#   tf=DIR     bench/gpu/transformer_step.py run DIR --no-compile
#   tfc=DIR    the same with torch.compile beside it
#   mlp=DIR    bench/gpu/mlp_step.py run DIR
#   train=DIR  bench/gpu/train_gpu.py run DIR (training curves)
#   prof=DIR   bench/gpu/call_profile.py on each case under DIR (Python
#              side, C entry point, the runtime's host profile)
#   dp=DIR     bench/gpu/dp_check.py run DIR: data-parallel steps against
#              the plain ones, without a communicator and through NCCL
#
# JSON lines go to results.jsonl, logs to run.log (and one log a part);
# all of it ends up in OUT/results.tgz. The exit status is the number of
# parts that failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
final=$1
shift
out=$(mktemp -d)
export PYTHONPATH="$root/python:$root/bench/gpu" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader \
  | tee "$out/gpu.txt"
failed=0
for arg in "$@"; do
  kind=${arg%%=*}
  dir=$(cd "${arg#*=}" && pwd)
  name=$(basename "$dir")
  # The runtime copied beside the cases (saved steps carry their own).
  if [ -f "$dir/libmpt_cuda_runtime.so" ]; then
    export MPT_CUDA_RUNTIME="$dir/libmpt_cuda_runtime.so"
  else
    unset MPT_CUDA_RUNTIME
  fi
  echo "== $kind $name $(date -u +%H:%M:%S)" | tee -a "$out/run.log"
  case $kind in
    bw) python3 "$root/bench/gpu/bandwidth.py" run "$dir" "$out/results.jsonl" ;;
    check) python3 "$root/bench/gpu/check.py" "$dir" --json "$out/check-$name.jsonl" \
             --markdown "$out/check-$name.md" ;;
    tb) OUT="$out/tb-$name" python3 "$root/bench/gpu/torch_buffers.py" "$dir" ;;
    tf) python3 "$root/bench/gpu/transformer_step.py" run "$dir" \
          "$out/results.jsonl" --no-compile ;;
    tfc) python3 "$root/bench/gpu/transformer_step.py" run "$dir" \
           "$out/results.jsonl" ;;
    mlp) python3 "$root/bench/gpu/mlp_step.py" run "$dir" "$out/results.jsonl" ;;
    dp) python3 "$root/bench/gpu/dp_check.py" run "$dir" "$out/results.jsonl" ;;
    train) python3 "$root/bench/gpu/train_gpu.py" run "$dir" "$out/train-$name" \
             --jsonl "$out/results.jsonl" ;;
    prof) for case in "$dir"/*/libstep.so; do
            python3 "$root/bench/gpu/call_profile.py" "$(dirname "$case")" \
              --calls 20 | tee -a "$out/prof-$name.md" || exit 1
          done ;;
    *) echo "unknown part $arg"; false ;;
  esac > >(tee "$out/$kind-$name.log" | tail -40) 2>&1
  status=$?
  echo "== $kind $name: exit $status" | tee -a "$out/run.log"
  [ $status -eq 0 ] || failed=$((failed + 1))
done
mkdir -p "$final"
tar czf "$final/results.tgz" -C "$out" .
exit $failed
