"""A stand-in for libnccl.so.2 for tests without a GPU: the NCCL functions
the runtime loads, in C, built into a shared library. Its unique id is
byte i = (mul * i + add) mod 256; the version 22703; the others succeed."""
import os
import subprocess

SOURCE = r"""
int ncclGetVersion(int *v) { *v = 22703; return 0; }
int ncclGetUniqueId(char *id) {
  for (int i = 0; i < 128; ++i) id[i] = (char)(%(mul)d * i + %(add)d);
  return 0;
}
int ncclCommInitRank(void) { return 0; }
int ncclCommDestroy(void) { return 0; }
int ncclAllReduce(void) { return 0; }
const char *ncclGetErrorString(int r) { return "fake"; }
const char *ncclGetLastError(void *c) { return ""; }
"""


def build(workdir, mul, add):
    """Builds the library in workdir; returns (its path, the unique id it
    makes, as hex)."""
    src = os.path.join(workdir, "nccl.c")
    with open(src, "w") as f:
        f.write(SOURCE % {"mul": mul, "add": add})
    lib = os.path.join(workdir, "libfakenccl.so")
    subprocess.run([os.environ.get("MPT_CC") or "cc", "-shared", "-fPIC",
                    "-o", lib, src], check=True)
    return lib, bytes((mul * i + add) % 256 for i in range(128)).hex()
