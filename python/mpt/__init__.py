"""mpt: compile an FP32 training step into a mixed-precision one and run it.

  import mpt
  step = mpt.compile("examples/mlp.mlir", amp="f16", optimizer="momentum")
  trainer = mpt.Trainer(step, params)
  trainer.fit(batches, epochs=3)

`mpt.compile`, `mpt.Step` and `mpt.load_step` (mpt/step.py: a step saved
with `step.save(dir)` loads elsewhere without the compiler), `mpt.Trainer`
(mpt/trainer.py), the example generator `mpt.gen` (standard library only), the loaders of
compiled steps `mpt.aot` (CPU) and `mpt.cuda` (GPU), the demos `mpt.demo`
and `mpt.demo_digits` (`make demo`).
Numeric checks and defect searches are test harnesses: `mpt.testing`.
See docs/Python.md.

Importing `mpt` needs only the standard library (`python3 -m mpt.gen` runs
without numpy); the API below loads numpy when first used.
"""

__version__ = "0.1.0"

_LAZY = {
    "compile": "step", "pipeline_args": "step", "cache_dir": "step",
    "Step": "step", "Results": "step", "LossScaling": "step",
    "Optimizer": "step", "CompileError": "step", "load_step": "step",
    "DataParallel": "step",
    "Trainer": "trainer",
    # The PyTorch ingress (mpt/torch_import.py, docs/PyTorch.md).
    "from_torch": "torch_import", "TorchImportError": "torch_import",
    "UnsupportedOpError": "torch_import",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'mpt' has no attribute %r" % name)
    import importlib
    value = getattr(importlib.import_module("mpt." + module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
