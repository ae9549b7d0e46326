#!/usr/bin/env bash
# scripts/setup.sh - install what building and testing mpt needs, idempotently.
#
# Installs missing Debian packages with apt (running `apt-get update` only when
# something must be installed), then reports the CUDA toolkit. Safe to run any
# number of times; a second run installs nothing and prints one line per check.
set -euo pipefail

LLVM_MAJOR=22
PACKAGES=(
  "llvm-${LLVM_MAJOR}-dev" "libmlir-${LLVM_MAJOR}-dev" "mlir-${LLVM_MAJOR}-tools"
  "llvm-${LLVM_MAJOR}-tools" cmake ninja-build g++ python3 python3-numpy
  libgtest-dev clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then
      echo "setup: error: package '$p' is not available from the configured apt" \
           "sources; mpt needs LLVM/MLIR ${LLVM_MAJOR} from Debian (see README)." >&2
      exit 1
    fi
  done
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi

# The CUDA toolkit is optional: without it only what needs ptxas is disabled.
CUDA_DIR="${CUDA_HOME:-/usr/local/cuda}"
if [ -x "$CUDA_DIR/bin/ptxas" ]; then
  echo "setup: CUDA toolkit at $CUDA_DIR ($("$CUDA_DIR/bin/ptxas" --version | tail -1))"
else
  echo "setup: no CUDA toolkit (set CUDA_HOME); tests that need ptxas are disabled"
fi
