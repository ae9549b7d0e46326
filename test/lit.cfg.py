# -*- Python -*- lit configuration of mpt's tests.

import hashlib
import os
import shutil
import subprocess

import lit.formats
import lit.util

config.name = "MPT"
config.test_format = lit.formats.ShTest(not lit.util.which("bash"))
config.suffixes = [".mlir", ".py", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mpt_obj_root, "test")

# Captures must not leak between CHECK-LABEL blocks (as in StableHLO).
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"
# mpt's Python helpers (generator, AOT loader) and tools on PATH.
config.environment["PYTHONPATH"] = os.path.join(config.mpt_src_root, "python")
config.environment["MPT_TOOLS_DIR"] = config.mpt_tools_dir
config.environment["MPT_LLVM_TOOLS_DIR"] = config.llvm_tools_dir
config.environment["MPT_CC"] = config.host_cc
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

path = [config.mpt_tools_dir, config.llvm_tools_dir, config.environment["PATH"]]
config.environment["PATH"] = os.pathsep.join(path)

lib = config.mlir_lib_dir
config.substitutions.append(("%PYTHON", config.python_executable))
config.substitutions.append(("%mpt_src", config.mpt_src_root))
config.substitutions.append(
    ("%mlir_runner_utils", os.path.join(lib, "libmlir_runner_utils.so")))
config.substitutions.append(
    ("%mlir_c_runner_utils", os.path.join(lib, "libmlir_c_runner_utils.so")))
config.substitutions.append(
    ("%mpt_cpu_run",
     "mlir-runner -e main -entry-point-result=void "
     f"-shared-libs={lib}/libmlir_runner_utils.so,"
     f"{lib}/libmlir_c_runner_utils.so"))

# cuda-toolkit: ptxas is present (compile-only GPU tests).
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", config.ptxas))

# mpt-cuda-runtime: libmpt_cuda_runtime was built (it needs the toolkit's
# headers and stub libcuda); %mpt_cuda_runtime is the shared library,
# %host_cc the C compiler that links against it and %cuda_stub_dir the
# build tree's directory holding the stub as libcuda.so.1.
if config.mpt_cuda_runtime:
    config.available_features.add("mpt-cuda-runtime")
    config.substitutions.append(("%mpt_cuda_runtime", config.mpt_cuda_runtime))
    config.substitutions.append(("%host_cc", config.host_cc))
    config.substitutions.append(
        ("%cuda_stub_dir",
         os.path.join(os.path.dirname(config.mpt_cuda_runtime), "cuda-stub")))

# cuda-gpu: a GPU answers (executing GPU tests). Never true in CI.
def _gpu_answers():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and b"GPU" in out.stdout

if _gpu_answers():
    config.available_features.add("cuda-gpu")

# numpy is needed by executed tests that compare against references.
try:
    subprocess.run([config.python_executable, "-c", "import numpy"],
                   check=True, capture_output=True)
    config.available_features.add("numpy")
except (OSError, subprocess.CalledProcessError):
    lit_config.warning("numpy not found for %s: numeric tests are skipped"
                       % config.python_executable)

# The project's Python environment (.venv/, made by scripts/setup.sh from
# requirements.txt): %venv_python runs it, and the feature `iree` says that
# it holds IREE (iree-compile, iree.runtime) for test/Integration/IREE/.
# A missing or stale environment fails the run loudly, unless MPT_NO_VENV=1
# says to do without it; the tests that need it are then UNSUPPORTED.
def _venv_problem(venv):
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        return "%s does not exist" % python
    if not os.path.exists(os.path.join(venv, "bin", "iree-compile")):
        return "%s has no iree-compile" % venv
    requirements = os.path.join(config.mpt_src_root, "requirements.txt")
    with open(requirements, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    try:
        with open(os.path.join(venv, "mpt-requirements.stamp")) as f:
            stamp = f.read()
    except OSError:
        stamp = ""
    if ("sha256 %s" % sha) not in stamp:
        return "%s was not made from the current requirements.txt" % venv
    return None

_venv = os.path.join(config.mpt_src_root, ".venv")
_venv_python = os.path.join(_venv, "bin", "python")
config.substitutions.append(("%venv_python", _venv_python))
_problem = _venv_problem(_venv)
if _problem is None:
    config.available_features.add("iree")
    # torch: the environment also holds torch and torch-mlir (the PyTorch
    # ingress, mpt.from_torch; test/Integration/Torch/).
    try:
        subprocess.run([_venv_python, "-c", "import torch, torch_mlir"],
                       check=True, capture_output=True, timeout=300)
        config.available_features.add("torch")
    except (OSError, subprocess.CalledProcessError,
            subprocess.TimeoutExpired):
        lit_config.note("%s cannot import torch and torch_mlir: the "
                        "PyTorch tests are unsupported" % _venv_python)
elif os.environ.get("MPT_NO_VENV") == "1":
    lit_config.note("MPT_NO_VENV=1: %s; the tests that need it are "
                    "unsupported" % _problem)
else:
    # lit stops after loading the configuration, with this message.
    lit_config.error("%s: run scripts/setup.sh (or `make setup`), or set "
                     "MPT_NO_VENV=1 to run without the project's Python "
                     "environment" % _problem)
