#!/bin/bash
# The GPU step check, in two halves.
#
# Here (no GPU needed):  bench/gpu/run.sh [BUILD_DIR] [--only REGEX...]
#   builds mpt-opt and libmpt_cuda_runtime in BUILD_DIR (default: build),
#   then compiles every case (shipped examples and generated MLP/CNN/
#   transformer steps in FP32, f16 with dynamic loss scaling + AdamW, bf16)
#   with mpt-lower-to-nvvm and computes the CPU path's results for random
#   inputs, plus the kernel-level cases of kernel_cases.py against a
#   float64 reference, into BUILD_DIR/gpu-artifacts (prepare.py).
#
# On the GPU machine, from the repository root, with that folder carried:
#   bench/gpu/device.sh BUILD_DIR/gpu-artifacts [OUT]
#   runs every case against the CPU results and, where torch is installed,
#   against PyTorch on the same inputs (check.py, torch_ref.py), repeats one
#   step for memory growth and runs one step under compute-sanitizer
#   memcheck.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
shift || true
cmake --build "$root/$build" --target mpt-opt mpt_cuda_runtime
export PYTHONPATH="$root/python"
export MPT_TOOLS_DIR="$root/$build/bin"
export MPT_LLVM_TOOLS_DIR=${MPT_LLVM_TOOLS_DIR:-/usr/lib/llvm-22/bin}
/usr/bin/python3 "$root/bench/gpu/prepare.py" "$root/$build/gpu-artifacts" "$@"
du -sh "$root/$build/gpu-artifacts"
echo "next, on the GPU machine: bench/gpu/device.sh $build/gpu-artifacts"
