# REQUIRES: mpt-cuda-runtime, torch
# The NCCL unique id exchanged as under torchrun (MASTER_ADDR, MASTER_PORT:
# a torch.distributed.TCPStore at MASTER_PORT + 1), between two processes
# on this machine, without a GPU: rank 0 makes the id (NCCL replaced by a C
# stand-in compiled here), rank 1 reads it from the store, late.
# RUN: rm -rf %t && mkdir -p %t
# RUN: env LD_LIBRARY_PATH=%cuda_stub_dir MPT_CUDA_RUNTIME=%mpt_cuda_runtime \
# RUN:   %venv_python %s %t | FileCheck %s
# CHECK: PASS unique id through the TCPStore, same on both ranks

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
import fake_nccl  # noqa: E402


# Rank 1 comes late: rank 0, whose store is the server, must wait for its
# read (it used to return, and its process to end, before).
RANK = """
import sys
import time
import torch.distributed as dist
from mpt import cuda
rank = int(sys.argv[1])
if rank == 1:
    class LateStore(dist.TCPStore):
        def get(self, key):
            time.sleep(2.0)
            return super().get(key)
    dist.TCPStore = LateStore
uid = cuda._exchange_unique_id(cuda.Runtime.get(), rank, 2, 60.0)
sys.stdout.write(uid.hex())
"""


def free_port():
    """Two consecutive free ports: MASTER_PORT and the store's."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as t:
                t.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two free ports")


def main():
    work = sys.argv[1]
    fake, want = fake_nccl.build(work, 7, 2)
    env = dict(os.environ, MPT_NCCL_LIBRARY=fake, MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(free_port()))
    env.pop("MPT_DISTRIBUTED_ID_FILE", None)
    ranks = [subprocess.Popen([sys.executable, "-c", RANK, str(r)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for r in (1, 0)]
    out = [p.communicate(timeout=120) for p in ranks]
    assert all(p.returncode == 0 for p in ranks), out
    assert [o[0] for o in out] == [want, want], out
    print("PASS unique id through the TCPStore, same on both ranks")


if __name__ == "__main__":
    main()
