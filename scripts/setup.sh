#!/usr/bin/env bash
# scripts/setup.sh - install what building and testing mpt needs, idempotently.
#
# Installs missing Debian packages with apt (running `apt-get update` only when
# something must be installed), makes the project's Python environment .venv/
# from the pinned requirements.txt, then reports the CUDA toolkit. Safe to run
# any number of times; a second run installs nothing and prints one line per
# check.
#
# Environment: PYTHON, the interpreter .venv/ is made from (default: Debian's
# python3, from the package list below); MPT_NO_VENV=1 skips .venv/ (the tests
# that need it are then UNSUPPORTED instead of failing).
set -euo pipefail

LLVM_MAJOR=22
PACKAGES=(
  "llvm-${LLVM_MAJOR}-dev" "libmlir-${LLVM_MAJOR}-dev" "mlir-${LLVM_MAJOR}-tools"
  "llvm-${LLVM_MAJOR}-tools" cmake ninja-build g++ python3 python3-numpy
  python3-venv libgtest-dev clang-format libjemalloc2
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

# The project's Python environment (.venv/ at the repository root): exactly
# what requirements.txt pins, made again from scratch only when that file or
# the interpreter's version changed (the stamp holds both).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/requirements.txt"
STAMP="$VENV/mpt-requirements.stamp"
PYTHON="${PYTHON:-/usr/bin/python3}"
if [ "${MPT_NO_VENV:-0}" = 1 ]; then
  echo "setup: MPT_NO_VENV=1: no .venv; the tests that need it are unsupported"
else
  req_sha="$(sha256sum <"$REQUIREMENTS" | cut -d' ' -f1)"
  py_version="$("$PYTHON" -c 'import platform; print(platform.python_version())')"
  want="requirements.txt sha256 $req_sha
python $py_version"
  if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "setup: .venv up to date (requirements.txt ${req_sha:0:12}, Python $py_version)"
  else
    echo "setup: creating .venv from requirements.txt (Python $py_version)"
    start=$SECONDS
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" ||
       ! "$VENV/bin/python" -m pip install --quiet --no-input \
           --disable-pip-version-check -r "$REQUIREMENTS"; then
      rm -rf "$VENV"
      echo "setup: error: could not create .venv from requirements.txt (see" \
           "above); MPT_NO_VENV=1 builds and tests without it, the IREE and" \
           "PyTorch tests then unsupported" >&2
      exit 1
    fi
    printf '%s\n' "$want" >"$STAMP"
    echo "setup: .venv ready in $((SECONDS - start)) s"
  fi
fi

# The CUDA toolkit is optional: without it only what needs ptxas is disabled.
CUDA_DIR="${CUDA_HOME:-/usr/local/cuda}"
if [ -x "$CUDA_DIR/bin/ptxas" ]; then
  echo "setup: CUDA toolkit at $CUDA_DIR ($("$CUDA_DIR/bin/ptxas" --version | tail -1))"
else
  echo "setup: no CUDA toolkit (set CUDA_HOME); tests that need ptxas are disabled"
fi
