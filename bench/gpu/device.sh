#!/bin/bash
# Runs on the GPU machine: checks every case of ARTIFACTS (see run.sh)
# against the CPU path and, where torch is installed, against PyTorch
# (check.py, torch_ref.py), and writes the logs to OUT (default:
# ARTIFACTS/results): check.log, gpu-check.jsonl, check.md (the summary).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
art=$(cd "$1" && pwd)
out=${2:-$art/results}
mkdir -p "$out"
export PYTHONPATH="$root/python" PYTHONUNBUFFERED=1
export MPT_CUDA_RUNTIME="$art/libmpt_cuda_runtime.so"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 "$root/bench/gpu/check.py" "$art" --repeat 100 \
  --json "$out/gpu-check.jsonl" --markdown "$out/check.md" 2>&1 \
  | tee "$out/check.log"
status=${PIPESTATUS[0]}
# One step under memcheck (slow: the smallest mixed-precision case).
if command -v compute-sanitizer >/dev/null; then
  if [ -d "$art/mlp-f16" ]; then
    compute-sanitizer --tool memcheck --error-exitcode 3 \
      python3 "$root/bench/gpu/check.py" "$art" --only mlp-f16 --no-torch \
      >"$out/memcheck.log" 2>&1
    echo "compute-sanitizer memcheck exit $? (0: clean)" | tee -a "$out/check.log"
    tail -3 "$out/memcheck.log"
  fi
  # The kernel cases but the contractions: reads past the tails of odd
  # shapes, dynamic shapes and split reductions.
  if compgen -G "$art/kernel-*/meta.json" >/dev/null; then
    compute-sanitizer --tool memcheck --error-exitcode 3 \
      python3 "$root/bench/gpu/check.py" "$art" --only 'kernel-(?!mm-).*' \
      --no-torch \
      >"$out/memcheck-kernels.log" 2>&1
    echo "compute-sanitizer memcheck (kernel cases) exit $? (0: clean)" \
      | tee -a "$out/check.log"
    tail -3 "$out/memcheck-kernels.log"
  fi
fi
exit $status
