# REQUIRES: numpy
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache WORLD_SIZE=1 %PYTHON %s | FileCheck %s
# mpt.compile(..., data_parallel=...) and the Trainer on the CPU path (one
# process): the step is made data-parallel (shard collectives in its IR), it
# trains to the same parameters and losses as the plain step bit for bit,
# batches are split by rank (mpt.trainer.shard) as torchrun ranks would
# split them, and the CPU path refuses a launch of several processes.
# CHECK: PASS data_parallel=True: the same training, bit for bit
# CHECK: PASS shard: rank 1 of 2 takes rows 4..7; errors name the input
# CHECK: PASS options: world_size, bucket_mb, errors
# CHECK: PASS WORLD_SIZE=2 on the CPU: refused

import os

import numpy as np

import mpt
from mpt import gen, trainer


def batches(rng, n, batch=8):
    for _ in range(n):
        x = rng.standard_normal((batch, 16)).astype(np.float32)
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
        yield {"x": x, "labels": y}


def train(step, params):
    t = mpt.Trainer(step, params, progress=False)
    t.fit(list(batches(np.random.default_rng(1), 4)))
    return t.history, t.host_params()


text, _ = gen.generate("mlp", batch=8)
kw = dict(amp="f16", optimizer=mpt.Optimizer("momentum", lr=0.05))
plain = mpt.compile(text, **kw)
dp = mpt.compile(text, data_parallel=True, **kw)
assert "shard.all_reduce" in dp.text and dp.data_parallel
assert not plain.data_parallel
assert any(a.startswith("--mpt-data-parallel=") for a in dp.pipeline)
rng = np.random.default_rng(0)
params = {n: (rng.standard_normal([d for d in plain.arg(n).shape]) * 0.3)
          .astype(np.float32) for n in plain.params}
h0, p0 = train(plain, params)
h1, p1 = train(dp, params)
assert [(r["loss"], r["scale"], r["skipped"]) for r in h0] == \
    [(r["loss"], r["scale"], r["skipped"]) for r in h1]
assert all(p0[n].tobytes() == p1[n].tobytes() for n in p0)
print("PASS data_parallel=True: the same training, bit for bit")

g = np.arange(16, dtype=np.float32).reshape(8, 2)
assert (trainer.shard(g, [4, 2], 1, 2) == g[4:]).all()
assert (trainer.shard(g, [None, 2], 0, 2) == g[:4]).all()
assert trainer.shard(g[:4], [4, 2], 1, 2) is not None
assert (trainer.shard(g[:4], [4, 2], 1, 2) == g[:4]).all(), "a shard already"
assert trainer.shard(np.float32(3), [], 1, 2) == 3
for shape, world, needle in (([4, 2], 3, "8 rows does not split into 3 "
                              "ranks of 4 rows"),
                             ([None, 2], 3, "8 rows does not split into 3 "
                              "ranks")):
    try:
        trainer.shard(g, shape, 0, world, "x")
    except ValueError as e:
        assert needle in str(e) and str(e).startswith("x: "), e
    else:
        raise AssertionError(shape)
print("PASS shard: rank 1 of 2 takes rows 4..7; errors name the input")

args = mpt.pipeline_args(amp="f16", data_parallel=dict(world_size=4,
                                                       bucket_mb=0.5))
assert "--mpt-data-parallel=world-size=4 bucket-mb=0.5" in args, args
assert args.index("--mpt-data-parallel=world-size=4 bucket-mb=0.5") == 1
assert "--mpt-data-parallel=world-size=2" in mpt.pipeline_args(
    data_parallel=2)
assert "--mpt-data-parallel=world-size=0 reduce-type=bf16" in \
    mpt.pipeline_args(data_parallel=mpt.DataParallel(reduce_type="bf16"))
for bad, needle in ((dict(world_size=-1), "world_size must be >= 0"),
                    (dict(bucket_mb=-2.0), "bucket_mb must be >= 0"),
                    (dict(reduce_type="f8"), "reduce_type must be")):
    try:
        mpt.pipeline_args(data_parallel=bad)
    except ValueError as e:
        assert needle in str(e), e
    else:
        raise AssertionError(bad)
try:
    mpt.pipeline_args(pipeline="--auto-mixed-precision", data_parallel=True)
except ValueError as e:
    assert "data_parallel" in str(e)
else:
    raise AssertionError("pipeline and data_parallel")
print("PASS options: world_size, bucket_mb, errors")

os.environ["WORLD_SIZE"] = "2"
try:
    mpt.Trainer(dp, params, progress=False)
except ValueError as e:
    assert "runs as one process" in str(e) and "WORLD_SIZE=2" in str(e), e
else:
    raise AssertionError("WORLD_SIZE=2 on the CPU")
print("PASS WORLD_SIZE=2 on the CPU: refused")
