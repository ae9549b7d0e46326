# Step.save and mpt.load_step (python/mpt/step.py, docs/Python.md): a
# compiled step saved to a directory and loaded in another process that
# has no tool at all (no MPT_TOOLS_DIR, no LLVM tools dir, PATH without
# them, an empty cache) gives the original step's names, roles, initial
# state and results bit for bit, by call and through mpt.Trainer; the
# library is opened at the first call. Errors name the problem: a missing
# directory, a directory without step.json (a cache entry), another
# target, a library built for another target, a library changed after the
# save, a newer format, names that do not fit the signature.
# REQUIRES: numpy
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %PYTHON %s %t | FileCheck %s
# CHECK: PASS saved
# CHECK: PASS loaded without tools: identical results
# CHECK: PASS errors
# CHECK-NOT: FAIL

import json
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np

import mpt
from mpt import gen

OUT = sys.argv[1]

if len(sys.argv) > 2 and sys.argv[2] == "child":
    # The other process: nothing but numpy and the mpt package.
    assert "MPT_TOOLS_DIR" not in os.environ
    assert not shutil.which("mpt-opt") and not shutil.which("llc") and \
        not shutil.which("cc")
    step = mpt.load_step(os.path.join(OUT, "saved"), target="cpu")
    assert step._lib is None and not step.cache_hit
    with open(os.path.join(OUT, "feed.pkl"), "rb") as f:
        feed, batches, params = pickle.load(f)
    out = step(**feed)
    with mpt.Trainer(step, params, progress=False) as t:
        t.fit(batches)
        trained = dict(t.params)
        losses = [r["loss"] for r in t.history]
    with open(os.path.join(OUT, "child.pkl"), "wb") as f:
        pickle.dump((repr(step), step.params, step.inputs, step.state,
                     step.updates, step.init_state(), dict(out), trained,
                     losses, step.pipeline), f)
    sys.exit(0)

text, _ = gen.generate("mlp", batch=8, widths=[6, 16, 4])
step = mpt.compile(text, amp="f16",
                   loss_scaling=mpt.LossScaling("dynamic", init_scale=256.0,
                                                growth_interval=3),
                   optimizer=mpt.Optimizer("momentum", lr=0.05))
saved = os.path.join(OUT, "saved")
assert step.save(saved) == saved
files = sorted(os.listdir(saved))
assert files == ["libstep.so", "step.json", "step.mlir"], files
with open(os.path.join(saved, "step.json")) as f:
    meta = json.load(f)
assert meta["target"] == "cpu" and meta["entry"] == "step", meta
assert meta["init"] == {"init_scale": 256.0, "hysteresis": None}, meta
assert meta["arguments"][:2] == ["x", "labels"], meta
print("PASS saved %s" % ", ".join(files))

rng = np.random.default_rng(0)
feed = {a.name: rng.standard_normal(a.shape).astype(np.float32)
        for a in step.arguments if a.role in ("input", "param")}
feed.update(step.init_state())
params = {n: feed[n] for n in step.params}
batches = []
for _ in range(7):
    x = rng.standard_normal((8, 6)).astype(np.float32)
    batches.append({"x": x, "labels": np.eye(4, dtype=np.float32)[
        rng.integers(0, 4, 8)]})
batches[4]["x"][0, 0] = np.inf  # a skipped step, the scale backs off
with open(os.path.join(OUT, "feed.pkl"), "wb") as f:
    pickle.dump((feed, batches, params), f)
want = step(**feed)
with mpt.Trainer(step, params, progress=False) as t:
    t.fit(batches)
    want_trained = dict(t.params)
    want_losses = [r["loss"] for r in t.history]
    assert t.skipped == 1, t.skipped

# The same step loaded in this process, then in one without tools.
again = mpt.Step.load(saved)
assert again.arguments[3].name == step.arguments[3].name
assert all(np.array_equal(again(**feed)[k], v) for k, v in want.items())
env = {k: v for k, v in os.environ.items()
       if k not in ("MPT_TOOLS_DIR", "MPT_LLVM_TOOLS_DIR", "MPT_CC")}
env["PATH"] = os.path.join(OUT, "no-tools")  # an empty directory
os.makedirs(env["PATH"])
env["MPT_CACHE_DIR"] = os.path.join(OUT, "empty-cache")
shutil.copytree(saved, os.path.join(OUT, "moved"))
shutil.rmtree(saved)
os.rename(os.path.join(OUT, "moved"), saved)  # another path than saved to
subprocess.run([sys.executable, __file__, OUT, "child"], env=env,
               check=True)
with open(os.path.join(OUT, "child.pkl"), "rb") as f:
    (rep, params_, inputs, state, updates, init, out, trained, losses,
     pipeline) = pickle.load(f)
assert rep == repr(step), (rep, repr(step))
assert (params_, inputs, state, updates) == (step.params, step.inputs,
                                             step.state, step.updates)
assert pipeline == step.pipeline
for k, v in step.init_state().items():
    assert np.array_equal(init[k], v) and init[k].dtype == v.dtype, k
assert list(out) == list(want)
for k, v in want.items():
    assert out[k].dtype == v.dtype and np.array_equal(out[k], v), k
assert np.array_equal(losses, want_losses, equal_nan=True), (losses,
                                                            want_losses)
for k, v in want_trained.items():
    assert np.array_equal(trained[k], v), k
assert not os.path.exists(env["MPT_CACHE_DIR"]) or \
    not os.listdir(env["MPT_CACHE_DIR"]), "the child compiled"
print("PASS loaded without tools: identical results (%d results, %d "
      "trained steps, one skipped)" % (len(out), len(losses)))


# -- errors
def error(fn, *needles, kind=Exception):
    try:
        fn()
    except kind as e:
        for n in needles:
            assert n in str(e), (n, str(e))
        return str(e)
    raise AssertionError("no error: %s" % (needles,))


def edited(name, change):
    """A copy of the saved step with step.json changed."""
    d = os.path.join(OUT, name)
    shutil.copytree(saved, d)
    with open(os.path.join(d, "step.json")) as f:
        meta = json.load(f)
    change(meta)
    with open(os.path.join(d, "step.json"), "w") as f:
        json.dump(meta, f)
    return d


error(lambda: mpt.load_step(os.path.join(OUT, "nowhere")),
      "no saved mpt step", "does not exist", kind=FileNotFoundError)
error(lambda: mpt.load_step(OUT), "no step.json", kind=FileNotFoundError)
error(lambda: mpt.load_step(step.path), "cache entry",
      kind=FileNotFoundError)
error(lambda: mpt.load_step(saved, target="cuda"),
      "built for target 'cpu', not 'cuda'", kind=ValueError)
error(lambda: mpt.load_step(saved, target="tpu"), "'tpu'", kind=ValueError)
error(lambda: mpt.load_step(edited("as-cuda", lambda m: m.update(
    target="cuda"))), "is a CPU library", "says target 'cuda'",
    "another target", kind=ValueError)
error(lambda: mpt.load_step(edited("newer", lambda m: m.update(
    format=99))), "format 99", "newer mpt", kind=ValueError)
error(lambda: mpt.load_step(edited("names", lambda m: m.update(
    arguments=m["arguments"][:-1]))), "do not fit @step", kind=ValueError)
changed = edited("changed", lambda m: None)
with open(os.path.join(changed, "libstep.so"), "ab") as f:
    f.write(b"\0")
error(lambda: mpt.load_step(changed), "sha256", "changed after",
      kind=ValueError)
mpt.load_step(changed, verify=False)
os.remove(os.path.join(changed, "libstep.so"))
error(lambda: mpt.load_step(changed), "libstep.so is missing",
      kind=FileNotFoundError)
with open(os.path.join(changed, "libstep.so"), "wb") as f:
    f.write(b"not a library")
error(lambda: mpt.load_step(changed, verify=False), "not an ELF",
      kind=ValueError)
error(lambda: mpt.Trainer(again, params, results="device"),
      "target='cuda'", kind=ValueError)
print("PASS errors")
