#!/bin/bash
# GEMM on tensor cores: mpt's mma.sync kernels against torch.matmul (cuBLAS).
#
#   bench/gpu/gemm.sh build DIR [CASE...]  where mpt-opt and ptxas are: MLIR ->
#       mpt-select-mma-strategy -> mpt-contraction-to-mma -> PTX -> cubin
#       (sm_90a) in DIR, with DIR/cases.json (grid, block, shared memory,
#       strategy, ptxas -v). MPT_TOOLS_DIR (default build/bin), PTXAS.
#   bench/gpu/gemm.sh run DIR OUT.jsonl [CASE...]  on the GPU machine (PyTorch):
#       checks each case against float64 and times it against torch; one JSON
#       object a case appended to OUT.jsonl (then to bench/results/gpu.jsonl).
#
# With the device tool: build into an ignored folder (e.g. build-<you>/gemm),
# carry it, and run `bench/gpu/gemm.sh run build-<you>/gemm $OUT/gpu.jsonl`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
shift || true
case "$mode" in
  build)
    PTXAS=${PTXAS:-$(command -v ptxas || echo "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas")} \
      python3 "$here/gemm_cases.py" build "$@" ;;
  run)
    export PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader || true
    python3 "$here/gemm_run.py" "$@" ;;
  *)
    sed -n '2,14p' "$0"; exit 2 ;;
esac
