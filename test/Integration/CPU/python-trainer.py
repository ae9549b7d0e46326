# mpt.Trainer (python/mpt/trainer.py, docs/Python.md): a generated MLP
# trained with f16, dynamic loss scaling and momentum on a learnable task;
# the loss decreases, master weights and state are fed back by name, the
# CSV and JSON-lines logs hold loss, scale and skipped; a batch with an Inf
# is skipped (parameters and momentum bit-identical, the scale backed off)
# and logged; progress through tqdm when it is there, none when it is not.
# REQUIRES: numpy
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %PYTHON %s %t | FileCheck %s

import csv
import importlib
import json
import os
import sys
import types

import numpy as np

import mpt
from mpt import gen

OUT = sys.argv[1]
BATCH, WIDTHS = 16, [8, 32, 4]
text, _ = gen.generate("mlp", batch=BATCH, widths=WIDTHS)
step = mpt.compile(text, amp="f16", loss_scaling=mpt.LossScaling(
    "dynamic", init_scale=1024.0, growth_interval=1000),
    optimizer=mpt.Optimizer("momentum", lr=0.1))
assert step.state == ("loss_scale", "growth_tracker", "hysteresis",
                      "w0_momentum", "b0_momentum", "w1_momentum",
                      "b1_momentum"), step.state

rng = np.random.default_rng(0)
TEACHER = rng.standard_normal((WIDTHS[0], WIDTHS[-1]))


def batch():
    x = rng.standard_normal((BATCH, WIDTHS[0]))  # float64: cast to f32
    y = np.eye(WIDTHS[-1])[np.argmax(x @ TEACHER, 1)]
    return {"x": x, "labels": y}


params = {}
for name in step.params:
    shape = step.arg(name).shape
    params[name] = rng.standard_normal(shape) / np.sqrt(shape[0]) \
        if len(shape) > 1 else np.zeros(shape)

csv_path = os.path.join(OUT, "train.csv")
jsonl_path = os.path.join(OUT, "train.jsonl")
data = [batch() for _ in range(20)]
with mpt.Trainer(step, params, log_csv=csv_path, log_jsonl=jsonl_path,
                 progress=False) as trainer:
    assert trainer.params["w0"].dtype == np.float32
    hist = trainer.fit(data, epochs=3)
    assert len(hist) == 60 and trainer.steps == 60 and trainer.epoch == 3
    losses = [r["loss"] for r in hist]
    first, last = np.mean(losses[:5]), np.mean(losses[-10:])
    assert last < 0.5 * first, (first, last)
    assert trainer.skipped == 0
    assert not np.array_equal(trainer.params["w0"], params["w0"])
    assert int(trainer.state["growth_tracker"]) == 60
    print("PASS loss %.3f -> %.3f over %d steps" % (first, last, len(hist)))
    # CHECK: PASS loss {{.*}} over 60 steps

    # A batch holding an Inf: skipped, nothing moves but the scale.
    before_p = {k: v.copy() for k, v in trainer.params.items()}
    before_s = {k: v.copy() for k, v in trainer.state.items()}
    bad = batch()
    bad["x"][3, 1] = np.inf
    rec = trainer.train_step(bad)
    assert rec["skipped"] and rec["scale"] == 1024.0, rec
    for k in before_p:
        assert np.array_equal(trainer.params[k], before_p[k]), k
    for k in step.state:
        if k.endswith("_momentum"):
            assert np.array_equal(trainer.state[k], before_s[k]), k
    assert float(trainer.state["loss_scale"]) == 512.0
    assert int(trainer.state["growth_tracker"]) == 0
    assert trainer.skipped == 1
    # ... and the next finite step trains again with the backed-off scale.
    rec = trainer.fit([batch()], max_steps=1)[0]
    assert not rec["skipped"] and rec["scale"] == 512.0
    print("PASS inf step skipped, scale 1024 -> 512")
    # CHECK: PASS inf step skipped, scale 1024 -> 512

with open(csv_path) as f:
    rows = list(csv.DictReader(f))
assert list(rows[0]) == ["step", "epoch", "loss", "scale", "skipped",
                         "seconds"], list(rows[0])
assert len(rows) == 62
assert [r["skipped"] for r in rows] == ["0"] * 60 + ["1", "0"]
assert rows[60]["scale"] == "1024.0" and rows[61]["scale"] == "512.0"
assert float(rows[0]["loss"]) == hist[0]["loss"]
assert rows[59]["epoch"] == "2"
with open(jsonl_path) as f:
    recs = [json.loads(line) for line in f]
assert len(recs) == 62 and recs[60]["skipped"] is True
assert recs[60]["scale"] == 1024.0 and recs[61]["scale"] == 512.0
print("PASS logs: %d rows, skipped step %d loss %s %s" % (
    len(rows), recs[60]["step"], rows[60]["loss"],
    recs[60]["loss"] if recs[60]["loss"] is None
    else "finite"))
# CHECK: PASS logs: 62 rows, skipped step 61 loss nan None

# --- misuse gets errors that say what to do.
grads_form = mpt.compile(text, amp="f16")
for fn, needle in [
        (lambda: mpt.Trainer(grads_form, params), "optimizer"),
        (lambda: mpt.Trainer(step, {"w0": params["w0"]}), "missing b0"),
        (lambda: mpt.Trainer(step, params, state={"scale": 1.0}),
         "unknown state scale"),
        (lambda: mpt.Trainer(step, params, progress=False).train_step(
            {"x": data[0]["x"]}), "missing labels")]:
    try:
        fn()
        raise AssertionError("no error: " + needle)
    except ValueError as e:
        assert needle in str(e), (needle, str(e))
        print("ERROR %s" % e)
# CHECK: ERROR the step does not update its parameters
# CHECK: ERROR params: missing b0, w1, b1
# CHECK: ERROR unknown state scale
# CHECK: ERROR inputs: missing labels

# --- a batch as a tuple in step.inputs order; progress through tqdm.
calls = []


class FakeBar:
    def __init__(self, total=None, unit=None):
        calls.append(("total", total))

    def update(self, n):
        calls.append(("update", n))

    def set_postfix(self, post):
        calls.append(("postfix", sorted(post)))

    def close(self):
        calls.append(("close",))


sys.modules["tqdm"] = types.SimpleNamespace(tqdm=FakeBar)
from mpt import trainer as trainer_module  # noqa: E402
importlib.reload(trainer_module)
tr = trainer_module.Trainer(step, params)
tr.fit([(d["x"], d["labels"]) for d in data[:3]], epochs=2, max_steps=5)
assert tr.steps == 5
assert calls[0] == ("total", 5) and calls[-1] == ("close",), calls
assert ("postfix", ["loss", "scale", "skipped"]) in calls
assert calls.count(("update", 1)) == 5
# Without tqdm: no bar, same training.
sys.modules["tqdm"] = None  # import fails
importlib.reload(trainer_module)
assert trainer_module._tqdm is None
tr = trainer_module.Trainer(step, params, progress=True)
tr.fit(data[:2])
assert tr.steps == 2 and not tr.progress
print("PASS tqdm used when there, skipped when missing")
# CHECK: PASS tqdm used when there, skipped when missing
