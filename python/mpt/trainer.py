"""`mpt.Trainer`: runs a compiled update-form step over a data loader.

  step = mpt.compile(module, amp="f16", optimizer=mpt.Optimizer("momentum",
                                                               lr=0.05))
  trainer = mpt.Trainer(step, params, log_csv="train.csv")
  trainer.fit(loader, epochs=2)      # loader: batches of the step's inputs
  trainer.params["w0"]               # the FP32 master weights

The trainer keeps the master weights, the optimizer state and the
loss-scale state between steps: every result that updates an argument
(`mpt.updates`: param_out, opt_state, loss_scale, growth_tracker,
hysteresis) is the next step's value of that argument. A CUDA step can keep
them on the GPU between steps (`results="device"`: only the batch, the
loss, the scale and found_inf cross to and from the host). It shows progress
with tqdm when tqdm is installed and logs each step's loss, loss scale and
whether it was skipped (found_inf) to CSV and/or JSON lines.
"""

import csv
import json
import math
import os
import time

import numpy as np

from mpt import aot

try:
    from tqdm import tqdm as _tqdm
except ImportError:  # progress bars are optional
    _tqdm = None

__all__ = ["Trainer", "shard"]

LOG_FIELDS = ("step", "epoch", "loss", "scale", "skipped", "seconds")


def _host(value):
    """A numpy array of a step's value (a DeviceArray is copied back)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy") and hasattr(value, "elem"):
        return value.numpy()
    return np.asarray(value)


def _finite_or_none(v):
    return v if v is None or math.isfinite(v) else None


def _ranks(step):
    """(rank, world size) a data-parallel step (mpt.compile(...,
    data_parallel=...)) trains with: under a launcher (WORLD_SIZE > 1) a
    CUDA step joins the NCCL communicator (mpt.cuda.init_distributed) unless
    the process has one already; the CPU path runs one process."""
    if not getattr(step, "data_parallel", False):
        return 0, 1
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if step.target != "cuda":
        if launched > 1:
            raise ValueError(
                "a data-parallel step on the CPU runs as one process "
                "(mpt-single-process-collectives), not as one of "
                "WORLD_SIZE=%d: compile it for target='cuda'" % launched)
        return 0, 1
    from mpt import cuda
    rank, world = cuda.distributed_info()
    if world == 1 and launched > 1:
        rank, world = cuda.init_distributed()
    return rank, world


def shard(value, shape, rank, world_size, name="input"):
    """This rank's part of a global batch: `value` split along its first
    dimension into `world_size` equal parts. A value whose first dimension
    already is the step's (`shape`, None where dynamic) is this rank's
    shard as it is; a scalar is shared."""
    value = np.asarray(value)
    if value.ndim == 0 or world_size == 1:
        return value
    local, rows = (shape[0] if shape else None), value.shape[0]
    if local is not None and rows == local:
        return value
    if rows % world_size or (local is not None and
                             rows != local * world_size):
        raise ValueError(
            "%s: a batch of %d rows does not split into %d ranks%s" % (
                name, rows, world_size,
                "" if local is None else
                " of %d rows (the step's batch)" % local))
    part = rows // world_size
    return value[rank * part:(rank + 1) * part]


class Trainer:
    """Trains with a Step compiled with an optimizer (update form).

    params      the initial FP32 parameters: {name: array} or a sequence in
                step.params order (copied; the trainer owns its master
                weights)
    state       the initial state {name: array}; default step.init_state()
    log_csv     a path: one row per step (step, epoch, loss, scale,
                skipped, seconds)
    log_jsonl   a path: the same records as JSON lines (a non-finite loss
                is written as null, with "loss_text": "inf" / "nan")
    progress    show a tqdm bar (ignored when tqdm is not installed)
    results     "numpy" (default: every step copies its arguments to the
                step and its results back) or, for a CUDA step, "device":
                the weights and the state stay on the GPU as
                mpt.cuda.DeviceArrays between steps (host_params() and
                host_state() copy them back)

    `scale` is the loss scale the step ran with (empty without loss
    scaling); `skipped` says the step found an Inf or a NaN in its
    gradients and left parameters and optimizer state unchanged.

    A data-parallel step (mpt.compile(..., data_parallel=True)) under
    torchrun: the trainer joins the ranks (mpt.cuda.init_distributed) and
    each batch the data yields is the global one, which every rank splits
    along its first dimension, training on its own part (`shard`; a batch
    that already has the step's batch size is taken as this rank's part).
    `rank` and `world_size` say which; the loss logged is the rank's.
    """

    def __init__(self, step, params, *, state=None, log_csv=None,
                 log_jsonl=None, progress=True, results="numpy"):
        self.rank, self.world_size = _ranks(step)
        if results not in ("numpy", "device"):
            raise ValueError("results must be 'numpy' or 'device', not %r"
                             % (results,))
        if results == "device" and step.target != "cuda":
            raise ValueError("results='device' needs a step compiled for "
                             "target='cuda' (this one is %r)" % step.target)
        self.results = results
        missing = [p for p in step.params if p not in step.updates.values()]
        if not step.params or missing:
            raise ValueError(
                "the step does not update its parameters (%s): compile it "
                "with an optimizer, e.g. mpt.compile(..., optimizer='sgd')"
                % (", ".join(missing) or "it has none"))
        self.step = step
        self.params = self._named(params, step.params, "params")
        init = step.init_state()
        if state is not None:
            unknown = set(state) - set(step.state)
            if unknown:
                raise ValueError("unknown state %s (the step's state: %s)"
                                 % (", ".join(sorted(unknown)),
                                    ", ".join(step.state)))
            init.update({k: np.array(v, copy=True) for k, v in
                         state.items()})
        self.state = init
        self.history = []
        self.steps = 0
        self.skipped = 0
        self.epoch = 0
        self.progress = progress and _tqdm is not None
        self._csv_file = self._csv = self._jsonl = None
        if log_csv:
            self._csv_file = open(log_csv, "w", newline="")
            self._csv = csv.DictWriter(self._csv_file, LOG_FIELDS)
            self._csv.writeheader()
        if log_jsonl:
            self._jsonl = open(log_jsonl, "w")
        self._found_inf = next((r.name for r in step.results
                                if r.role == "found_inf"), None)
        self._loss = next((r.name for r in step.results
                           if r.role == "loss"), None)
        self._scale = next((a.name for a in step.arguments
                            if a.role == "loss_scale"), None)

    def _named(self, values, names, what):
        if isinstance(values, dict):
            unknown = set(values) - set(names)
            missing = [n for n in names if n not in values]
            if unknown or missing:
                raise ValueError("%s: %s%s (the step's %s: %s)" % (
                    what,
                    "unknown " + ", ".join(sorted(unknown)) if unknown
                    else "",
                    ("; " if unknown and missing else "") + (
                        "missing " + ", ".join(missing) if missing else ""),
                    what, ", ".join(names)))
        else:
            values = list(values)
            if len(values) != len(names):
                raise ValueError("%s: %d given, the step has %d (%s)" % (
                    what, len(values), len(names), ", ".join(names)))
            values = dict(zip(names, values))
        return {n: self._as_arg(n, values[n]) for n in names}

    def _as_arg(self, name, value):
        """A copy in the argument's dtype when numpy casts to it within
        its kind (float64 data for an f32 input); else as it is, for the
        step to report."""
        arr = np.array(value, copy=True)
        want = np.dtype(aot._NP_TYPES[self.step.arg(name).elem])
        if arr.dtype != want and np.can_cast(arr.dtype, want, "same_kind"):
            arr = arr.astype(want)
        return arr

    def _batch(self, batch):
        names = self.step.inputs
        if isinstance(batch, dict):
            inputs = self._named(batch, names, "inputs")
        elif isinstance(batch, (list, tuple)):
            inputs = self._named(batch, names, "inputs")
        else:
            inputs = self._named([batch], names, "inputs")
        if self.world_size == 1:
            return inputs
        return {n: shard(v, self.step.arg(n).shape, self.rank,
                         self.world_size, n) for n, v in inputs.items()}

    # -- one step

    def train_step(self, batch):
        """Runs one step on a batch (a dict by input name, or a tuple in
        step.inputs order); returns its log record."""
        inputs = self._batch(batch)
        scale = None
        if self._scale is not None:
            scale = float(_host(self.state[self._scale]))
        extra = {"results": "device"} if self.results == "device" else {}
        start = time.perf_counter()
        out = self.step(**inputs, **self.params, **self.state, **extra)
        seconds = time.perf_counter() - start
        for rname, aname in self.step.updates.items():
            if aname in self.params:
                self.params[aname] = out[rname]
            elif aname in self.state:
                self.state[aname] = out[rname]
        skipped = bool(_host(out[self._found_inf])) if self._found_inf \
            else False
        self.steps += 1
        self.skipped += skipped
        loss = float(_host(out[self._loss])) if self._loss else float("nan")
        record = {"step": self.steps, "epoch": self.epoch, "loss": loss,
                  "scale": scale, "skipped": skipped, "seconds": seconds}
        self.history.append(record)
        self._log(record)
        return record

    def _log(self, record):
        if self._csv is not None:
            row = dict(record)
            row["scale"] = "" if record["scale"] is None else \
                repr(record["scale"])
            row["loss"] = repr(record["loss"])
            row["skipped"] = int(record["skipped"])
            row["seconds"] = "%.6f" % record["seconds"]
            self._csv.writerow(row)
            self._csv_file.flush()
        if self._jsonl is not None:
            row = dict(record)
            row["loss"] = _finite_or_none(record["loss"])
            if row["loss"] is None:
                row["loss_text"] = repr(record["loss"])
            self._jsonl.write(json.dumps(row) + "\n")
            self._jsonl.flush()

    def host_params(self):
        """The master weights as numpy arrays (copies from the GPU with
        results="device", else the arrays themselves)."""
        return {n: _host(v) for n, v in self.params.items()}

    def host_state(self):
        """The optimizer and loss-scale state as numpy arrays."""
        return {n: _host(v) for n, v in self.state.items()}

    # -- loops

    def fit(self, data, epochs=1, max_steps=None):
        """Runs the step over `data` (an iterable of batches, iterated once
        per epoch) for `epochs`, at most `max_steps` steps in all; returns
        the records of these steps."""
        first = len(self.history)
        total = None
        try:
            total = len(data) * epochs
        except TypeError:
            pass
        if max_steps is not None:
            total = max_steps if total is None else min(total, max_steps)
        bar = _tqdm(total=total, unit="step") if self.progress else None
        done = 0
        try:
            for _ in range(epochs):
                for batch in data:
                    if max_steps is not None and done >= max_steps:
                        break
                    rec = self.train_step(batch)
                    done += 1
                    if bar is not None:
                        bar.update(1)
                        post = {"loss": "%.4g" % rec["loss"]}
                        if rec["scale"] is not None:
                            post["scale"] = "%g" % rec["scale"]
                            post["skipped"] = self.skipped
                        bar.set_postfix(post)
                else:
                    self.epoch += 1
                    continue
                break
        finally:
            if bar is not None:
                bar.close()
        return self.history[first:]

    def close(self):
        """Closes the log files."""
        for f in (self._csv_file, self._jsonl):
            if f is not None:
                f.close()
        self._csv_file = self._csv = self._jsonl = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
