# REQUIRES: mpt-cuda-runtime
# mpt.cuda's data-parallel set-up without a GPU: the runtime on the
# toolkit's stub driver, NCCL replaced by a few C functions compiled here
# (ncclGetVersion, ncclGetUniqueId). Each case runs in a process of its own
# (the runtime loads NCCL once per process).
# RUN: rm -rf %t && mkdir -p %t
# RUN: env LD_LIBRARY_PATH=%cuda_stub_dir MPT_CUDA_RUNTIME=%mpt_cuda_runtime \
# RUN:   %PYTHON %s %t | FileCheck %s
# CHECK: PASS no NCCL: names the library and MPT_NCCL_LIBRARY
# CHECK: PASS NCCL version 22703, world of one before init
# CHECK: PASS arguments checked
# CHECK: PASS unique id through MPT_DISTRIBUTED_ID_FILE, same on both ranks
# CHECK: PASS init on a machine without a driver names cuInit

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
import fake_nccl  # noqa: E402


CASES = {
    "missing": """
from mpt import cuda
try:
    cuda.nccl_version()
except RuntimeError as e:
    assert "cannot load NCCL from 'libmpt-no-such-nccl.so'" in str(e), e
    assert "set MPT_NCCL_LIBRARY" in str(e), e
    print("ok")
""",
    "version": """
from mpt import cuda
assert cuda.nccl_version() == 22703
assert cuda.distributed_info() == (0, 1)
print("ok")
""",
    "arguments": """
from mpt import cuda
for kwargs, needle in ((dict(rank=2, world_size=2), "rank 2 of world size 2"),
                       (dict(rank=0, world_size=2), "MASTER_ADDR"),
                       (dict(rank=0, world_size=1, unique_id=b"x"),
                        "has 1 bytes, not 128")):
    try:
        cuda.init_distributed(**kwargs)
    except ValueError as e:
        assert needle in str(e), (needle, e)
    else:
        raise AssertionError(kwargs)
print("ok")
""",
    "exchange": """
import sys
from mpt import cuda
rank = int(sys.argv[1])
uid = cuda._exchange_unique_id(cuda.Runtime.get(), rank, 2, 30.0)
sys.stdout.write(uid.hex())
""",
    "init": """
from mpt import cuda
try:
    cuda.init_distributed(rank=0, world_size=1)
except RuntimeError as e:
    assert "joining the NCCL communicator as rank 0 of 1" in str(e), e
    assert "mptDistributedInit: cuInit failed" in str(e), e
    print("ok")
""",
}


def run(case, env, *args, background=False):
    cmd = [sys.executable, "-c", CASES[case]] + list(args)
    full = dict(os.environ, **env)
    if background:
        return subprocess.Popen(cmd, env=full, stdout=subprocess.PIPE,
                                text=True)
    out = subprocess.run(cmd, env=full, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (
        case, out.stdout, out.stderr)


def main():
    work = sys.argv[1]
    fake, want = fake_nccl.build(work, 3, 1)
    run("missing", {"MPT_NCCL_LIBRARY": "libmpt-no-such-nccl.so"})
    print("PASS no NCCL: names the library and MPT_NCCL_LIBRARY")
    env = {"MPT_NCCL_LIBRARY": fake}
    run("version", env)
    print("PASS NCCL version 22703, world of one before init")
    run("arguments", dict(env, MASTER_ADDR="", MASTER_PORT=""))
    print("PASS arguments checked")
    idfile = dict(env, MPT_DISTRIBUTED_ID_FILE=os.path.join(work, "uid"))
    ranks = [run("exchange", idfile, str(r), background=True)
             for r in (1, 0)]  # rank 1 waits for rank 0's file
    ids = [p.communicate(timeout=60)[0] for p in ranks]
    assert all(p.returncode == 0 for p in ranks), ids
    assert ids == [want, want], ids
    print("PASS unique id through MPT_DISTRIBUTED_ID_FILE, same on both "
          "ranks")
    run("init", env)
    print("PASS init on a machine without a driver names cuInit")


if __name__ == "__main__":
    main()
