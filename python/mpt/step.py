"""`mpt.compile`: an FP32 training step in, a callable mixed-precision step
out.

  step = mpt.compile("examples/mlp.mlir", amp="f16",
                     optimizer=mpt.Optimizer("momentum", lr=0.1))
  state = step.init_state()
  out = step(x=x, labels=y, **params, **state)   # seed defaults to 1.0
  out.loss, out.found_inf, out.w0                # named results

The module runs through mpt-opt's passes (`--auto-mixed-precision`,
`--mpt-insert-loss-scaling`, `--mpt-attach-optimizer`, or a pipeline of
your own), then through the CPU path of mpt.aot or the GPU path of mpt.cuda.
The shared library is cached by content (module text, options, tool
identities) in $MPT_CACHE_DIR, else $XDG_CACHE_HOME/mpt, else ~/.cache/mpt.

A compiled step can be saved to a directory and loaded on another machine
without any tool (no mpt-opt, LLVM, C compiler or CUDA toolkit):

  step.save("steps/f16")                 # libstep.so, step.mlir, step.json
  step = mpt.load_step("steps/f16")      # elsewhere: numpy (+ the GPU)

See docs/Python.md.
"""

import dataclasses
import datetime
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile

import numpy as np

from mpt import aot, signature

__all__ = ["compile", "pipeline_args", "Step", "Results", "LossScaling",
           "Optimizer", "DataParallel", "CompileError", "cache_dir",
           "load_step"]

CompileError = aot.ToolError

TARGETS = ("cpu", "cuda")
AMP_DTYPES = ("f16", "bf16")
STATE_ROLES = ("loss_scale", "growth_tracker", "hysteresis", "opt_state")
# Argument and result names of the roles the passes add (opt_state: below).
_ROLE_NAMES = {"loss_scale": "loss_scale", "growth_tracker": "growth_tracker",
               "hysteresis": "hysteresis", "found_inf": "found_inf",
               "loss": "loss", "loss_grad": "loss_grad"}
# Bumped when the layout of a cache entry changes.
_CACHE_FORMAT = 1


# ------------------------------------------------------------------ options

def _option_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclasses.dataclass
class LossScaling:
    """Options of loss scaling (docs/LossScaling.md). `mode` is "none",
    "static" or "dynamic"; the others left None keep mpt-opt's defaults
    (init_scale 65536, growth_factor 2, backoff_factor 0.5,
    growth_interval 2000, hysteresis 1, min_scale 1, max_scale 2^24)."""

    mode: str = "dynamic"
    init_scale: float = None
    growth_factor: float = None
    backoff_factor: float = None
    growth_interval: int = None
    hysteresis: int = None
    min_scale: float = None
    max_scale: float = None

    def __post_init__(self):
        if self.mode not in ("none", "static", "dynamic"):
            raise ValueError("loss_scaling mode must be 'none', 'static' or "
                             "'dynamic', not %r" % (self.mode,))

    def options(self):
        """The pass options other than the mode, as 'name=value' strings."""
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name != "mode" and v is not None:
                out.append("%s=%s" % (f.name.replace("_", "-"),
                                      _option_text(v)))
        return out


@dataclasses.dataclass
class Optimizer:
    """Options of `mpt-attach-optimizer` (docs/LossScaling.md): `kind` is
    "sgd", "momentum", "adam" or "adamw"; None keeps mpt-opt's defaults
    (lr 1e-3, momentum 0.9, beta1 0.9, beta2 0.999, eps 1e-8,
    weight_decay 0, clip_norm 0 (off), keep_grads false)."""

    kind: str = "sgd"
    lr: float = None
    momentum: float = None
    beta1: float = None
    beta2: float = None
    eps: float = None
    weight_decay: float = None
    clip_norm: float = None
    keep_grads: bool = None

    def __post_init__(self):
        if self.kind not in ("sgd", "momentum", "adam", "adamw"):
            raise ValueError("optimizer kind must be 'sgd', 'momentum', "
                             "'adam' or 'adamw', not %r" % (self.kind,))

    def options(self):
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out.append("%s=%s" % (f.name.replace("_", "-"),
                                      _option_text(v)))
        return out


@dataclasses.dataclass
class DataParallel:
    """Options of `mpt-data-parallel` (docs/DataParallel.md): `world_size`
    0 (the launcher's, read at run time) or the number of ranks;
    `bucket_mb` the MiB of grads per all-reduce (None: 25; 0: one per
    grad); `reduce_type` None / "grad" (the grads' own type), "bf16" or
    "f16" (rounded to it for the all-reduce: half the bytes, a trade-off
    in precision)."""

    world_size: int = 0
    bucket_mb: float = None
    reduce_type: str = None

    def __post_init__(self):
        if self.reduce_type not in (None, "grad", "bf16", "f16"):
            raise ValueError("data_parallel reduce_type must be 'grad', "
                             "'bf16' or 'f16', not %r" % (self.reduce_type,))
        if self.world_size < 0:
            raise ValueError("data_parallel world_size must be >= 0 (0: the "
                             "launcher's), not %r" % (self.world_size,))
        if self.bucket_mb is not None and self.bucket_mb < 0:
            raise ValueError("data_parallel bucket_mb must be >= 0, not %r"
                             % (self.bucket_mb,))

    def options(self):
        out = ["world-size=%d" % self.world_size]
        if self.bucket_mb is not None:
            out.append("bucket-mb=%s" % _option_text(float(self.bucket_mb)))
        if self.reduce_type is not None:
            out.append("reduce-type=" + self.reduce_type)
        return out


def _as_options(value, cls, what, key):
    """None, a string (the mode or kind), a dict of fields or an instance
    -> an instance of cls, or None."""
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, str):
        return cls(**{key: value})
    if isinstance(value, dict):
        try:
            return cls(**value)
        except TypeError as e:
            names = ", ".join(f.name for f in dataclasses.fields(cls))
            raise TypeError("%s: %s (fields: %s)" % (what, e, names)) \
                from None
    raise TypeError("%s must be None, a string, a dict or mpt.%s, not %s"
                    % (what, cls.__name__, type(value).__name__))


def _transform_args(amp, loss_scaling, optimizer, amp_options,
                    data_parallel=None):
    """mpt-opt arguments of the training transforms."""
    if amp is not None and amp not in AMP_DTYPES:
        raise ValueError("amp must be None, 'f16' or 'bf16', not %r"
                         % (amp,))
    ls = _as_options(loss_scaling, LossScaling, "loss_scaling", "mode")
    opt = _as_options(optimizer, Optimizer, "optimizer", "kind")
    args = []
    if amp is not None:
        opts = ["dtype=" + amp]
        if ls is not None:
            opts += ["loss-scaling=" + ls.mode] + ls.options()
        for k, v in (amp_options or {}).items():
            opts.append("%s=%s" % (k.replace("_", "-"), _option_text(v)))
        args.append("--auto-mixed-precision=" + " ".join(opts))
    else:
        if amp_options:
            raise ValueError("amp_options need amp='f16' or 'bf16'")
        if ls is not None and ls.mode != "none":
            args.append("--mpt-insert-loss-scaling=" + " ".join(
                ["mode=" + ls.mode, "strict=true"] + ls.options()))
    if data_parallel is True:
        data_parallel = DataParallel()
    elif isinstance(data_parallel, int) and data_parallel is not False:
        data_parallel = DataParallel(world_size=data_parallel)
    dp = _as_options(data_parallel or None, DataParallel, "data_parallel",
                     "world_size")
    if dp is not None:
        # After loss scaling, before the optimizer (docs/DataParallel.md).
        args.append("--mpt-data-parallel=" + " ".join(dp.options()))
    if opt is not None:
        args.append("--mpt-attach-optimizer=" + " ".join(opt.options()))
    return args, ls


def _lowering_arg(target, target_options):
    """The mpt-opt argument of the lowering pipeline."""
    opts = dict(target_options or {})
    if target == "cpu":
        text = " ".join("%s=%s" % (k.replace("_", "-"), _option_text(v))
                        for k, v in opts.items())
        return "--mpt-lower-to-cpu" + ("=" + text if text else "")
    from mpt import cuda
    kw = _cuda_kwargs(target_options)
    kw["extra"] = kw.pop("pipeline_extra")
    return "--mpt-lower-to-nvvm=" + cuda.pipeline_options(**kw)


def _cuda_kwargs(target_options):
    """target_options -> the keyword arguments of mpt.cuda.build: chip,
    features, format (fmt), opt_level; the others go to the pipeline."""
    opts = dict(target_options or {})
    kw = {k: opts.pop(k) for k in ("chip", "features", "opt_level")
          if k in opts}
    if "format" in opts:
        kw["fmt"] = opts.pop("format")
    kw["pipeline_extra"] = " ".join(
        "%s=%s" % (k.replace("_", "-"), _option_text(v))
        for k, v in opts.items())
    return kw


def _check_target(target):
    if target not in TARGETS:
        raise ValueError("target must be 'cpu' or 'cuda', not %r"
                         % (target,))


def pipeline_args(*, target="cpu", amp=None, loss_scaling=None,
                  optimizer=None, pipeline=None, amp_options=None,
                  target_options=None, data_parallel=None):
    """The mpt-opt arguments `compile` runs with these options: the
    training transforms, then the lowering (`--mpt-lower-to-cpu` or
    `--mpt-lower-to-nvvm=...`). Needs no tools."""
    _check_target(target)
    if pipeline is not None:
        if amp is not None or loss_scaling is not None or \
                optimizer is not None or amp_options or data_parallel:
            raise ValueError("pipeline replaces amp, loss_scaling, "
                             "optimizer, amp_options and data_parallel: "
                             "give one or the other")
        args = pipeline.split() if isinstance(pipeline, str) else \
            list(pipeline)
        # Options hold spaces inside one argument: "--pass=a=1 b=2".
        if isinstance(pipeline, str):
            args = _join_pass_options(args)
    else:
        args, _ = _transform_args(amp, loss_scaling, optimizer, amp_options,
                                  data_parallel)
    return args + [_lowering_arg(target, target_options)]


def _join_pass_options(words):
    """'--a=x=1', 'y=2', '--b' -> '--a=x=1 y=2', '--b'."""
    out = []
    for w in words:
        if out and not w.startswith("-"):
            out[-1] += " " + w
        else:
            out.append(w)
    return out


# -------------------------------------------------------------------- cache

def cache_dir():
    """Where built steps are kept: $MPT_CACHE_DIR, else
    $XDG_CACHE_HOME/mpt, else ~/.cache/mpt."""
    env = os.environ.get("MPT_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mpt")


@functools.lru_cache(maxsize=None)
def _tool_identity(path, size, mtime):
    """A tool's version line (mpt-opt, llc, ...), with its file identity."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True,
                             timeout=60).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return [path, size, mtime, " ".join(out.split())[:400]]


def _identity(path):
    path = os.path.realpath(path)
    st = os.stat(path)
    return _tool_identity(path, st.st_size, st.st_mtime_ns)


def _tools_key(target):
    tools = [aot._tool("mpt-opt", "MPT_TOOLS_DIR"),
             aot._tool("mlir-translate", "MPT_LLVM_TOOLS_DIR"),
             aot._tool("llc", "MPT_LLVM_TOOLS_DIR")]
    cc = os.environ.get("MPT_CC") or shutil.which("cc") or \
        shutil.which("gcc")
    ids = [_identity(t) for t in tools]
    if cc:
        st = os.stat(os.path.realpath(cc))
        ids.append([os.path.realpath(cc), st.st_size, st.st_mtime_ns])
    if target == "cuda":
        from mpt import cuda
        rt = os.path.realpath(cuda.runtime_path())
        st = os.stat(rt)
        ids.append([rt, st.st_size, st.st_mtime_ns])
    # The Python side of the build (how the library is linked).
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("aot.py", "cuda.py"):
        with open(os.path.join(here, name), "rb") as f:
            ids.append([name, hashlib.sha256(f.read()).hexdigest()])
    return ids


def _cache_key(text, entry, target, args):
    blob = json.dumps({"format": _CACHE_FORMAT, "module": text,
                       "entry": entry, "target": target, "args": args,
                       "tools": _tools_key(target)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# ------------------------------------------------------------------ compile

def _read_module(module):
    if isinstance(module, os.PathLike):
        with open(module) as f:
            return f.read(), os.fspath(module)
    if not isinstance(module, str):
        raise TypeError("module must be MLIR text or a path, not %s"
                        % type(module).__name__)
    if "func.func" not in module and "\n" not in module:
        if not os.path.exists(module):
            raise FileNotFoundError("module %r is neither MLIR text nor an "
                                    "existing file" % module)
        with open(module) as f:
            return f.read(), module
    return module, None


def _pick_entry(text, entry):
    names = signature.public_functions(text)
    if entry is not None:
        if entry not in names:
            raise ValueError("no public function @%s in the module (it has: "
                             "%s)" % (entry, ", ".join(names) or "none"))
        return entry
    if len(names) == 1:
        return names[0]
    if "step" in names:
        return "step"
    raise ValueError("the module has %s public functions (%s): name the "
                     "step with entry=" % (len(names) or "no",
                                           ", ".join(names)))


def _build(text, args, target, target_options, outdir, timeout):
    """Runs the transforms and the lowering into outdir (libstep.so and
    step.mlir, the transformed step whose signature is called)."""
    os.makedirs(outdir, exist_ok=True)
    src = os.path.join(outdir, "source.mlir")
    with open(src, "w") as f:
        f.write(text)
    transforms, lowering = args[:-1], args[-1]
    mpt_opt = aot._tool("mpt-opt", "MPT_TOOLS_DIR")
    out = aot._run([mpt_opt, src] + transforms, timeout=timeout).decode()
    if target == "cpu":
        aot.compile_module(out, workdir=outdir, pipeline=lowering[2:],
                           timeout=timeout)
        os.remove(os.path.join(outdir, "step.o"))
    else:
        from mpt import cuda
        cuda.build(out, outdir, **_cuda_kwargs(target_options))
    with open(os.path.join(outdir, "step.mlir"), "w") as f:
        f.write(out)
    return out


def compile(module, *, target="cpu", amp=None, loss_scaling=None,
            optimizer=None, pipeline=None, entry=None, amp_options=None,
            target_options=None, cache=True, timeout=None,
            data_parallel=None):
    """Compiles an FP32 training step (MLIR text or a .mlir path) into a
    callable Step.

    amp            None (FP32), "f16" or "bf16": `--auto-mixed-precision`
    loss_scaling   None (the pass's default: dynamic for f16, none for bf16
                   and FP32), "none", "static", "dynamic", a dict or
                   mpt.LossScaling (init_scale, growth_interval, ...)
    optimizer      None (grads out), "sgd", "momentum", "adam", "adamw", a
                   dict or mpt.Optimizer (lr, weight_decay, clip_norm, ...)
    pipeline       mpt-opt arguments (a string or a list) to run instead of
                   the three above, e.g. "--auto-mixed-precision=dtype=bf16"
    entry          the step's function (default: the only public one, or
                   @step)
    amp_options    more `auto-mixed-precision` options, e.g.
                   {"keep_io_types": False, "deny": "linalg.matmul"}
    target         "cpu" (mpt-lower-to-cpu) or "cuda" (mpt-lower-to-nvvm;
                   target_options chip, features, format, opt_level and
                   the pipeline's other options; the library is loaded at
                   the first call, so it builds without a GPU)
    cache          reuse the library built with the same inputs (cache_dir)
    data_parallel  None, True, a dict or mpt.DataParallel (world_size,
                   bucket_mb): `--mpt-data-parallel` between loss scaling
                   and the optimizer; the grads are averaged across the
                   ranks of mpt.cuda.init_distributed (Trainer calls it)
    """
    _check_target(target)
    text, path = _read_module(module)
    entry = _pick_entry(text, entry)
    args = pipeline_args(target=target, amp=amp, loss_scaling=loss_scaling,
                         optimizer=optimizer, pipeline=pipeline,
                         amp_options=amp_options,
                         target_options=target_options,
                         data_parallel=data_parallel)
    if pipeline is None:
        _, ls = _transform_args(amp, loss_scaling, optimizer, amp_options)
        init = {"init_scale": ls.init_scale if ls else None,
                "hysteresis": ls.hysteresis if ls else None}
    else:
        init = _init_from_pipeline(args[:-1])
    source_args, _ = signature.parse(text, entry)
    hit = False
    if cache:
        root = cache_dir()
        os.makedirs(root, exist_ok=True)
        key = _cache_key(text, entry, target, args)
        outdir = os.path.join(root, "%s-%s" % (target, key[:40]))
        if os.path.exists(os.path.join(outdir, "meta.json")):
            hit = True
            with open(os.path.join(outdir, "step.mlir")) as f:
                out = f.read()
        else:
            tmp = tempfile.mkdtemp(prefix=".build-", dir=root)
            try:
                out = _build(text, args, target, target_options, tmp,
                             timeout)
                with open(os.path.join(tmp, "meta.json"), "w") as f:
                    json.dump({"entry": entry, "target": target,
                               "args": args, "source": path}, f, indent=1)
                try:
                    os.rename(tmp, outdir)
                except OSError:  # built meanwhile by another process
                    shutil.rmtree(tmp, ignore_errors=True)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    else:
        outdir = tempfile.mkdtemp(prefix="mpt-step-")
        out = _build(text, args, target, target_options, outdir,
                     timeout)
    return Step(out, entry, target, outdir, args, source_args, init, hit)


def _init_from_pipeline(args):
    """init-scale and hysteresis named in a pipeline of the caller's."""
    init = {"init_scale": None, "hysteresis": None}
    joined = " ".join(args)
    for key, conv in (("init_scale", float), ("hysteresis", int)):
        m = re.search(r"\b%s=([^\s}]+)" % key.replace("_", "-"), joined)
        if m:
            init[key] = conv(m.group(1))
    return init


# --------------------------------------------------------------------- Step

def _identifier(name, index):
    name = re.sub(r"\W", "_", name or "")
    if not name or name[0].isdigit():
        name = "arg%d" % index
    return name


def _unique(names):
    seen, out = {}, []
    for n in names:
        k = n
        while k in seen:
            seen[n] += 1
            k = "%s_%d" % (n, seen[n])
        seen.setdefault(k, 0)
        out.append(k)
    return out


def _opt_state_names(params, count):
    """Names of the optimizer state arguments, in the order
    mpt-attach-optimizer appends them."""
    if count == len(params):
        return ["%s_momentum" % p for p in params]
    if count == 2 * len(params) + 1:
        return [n for p in params for n in ("%s_m" % p, "%s_v" % p)] + \
            ["adam_t"]
    return ["opt_state%d" % i for i in range(count)]


class Results(dict):
    """A step's results by name (in result order); also as attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError("the step has no result %r (it returns: "
                                 "%s)" % (name, ", ".join(self))) from None

    def __dir__(self):
        return list(self) + list(super().__dir__())


class Step:
    """A compiled training step. Call it with arrays by position or by
    name; it returns Results by name. See docs/Python.md.

    arguments / results   signature.Value lists (name, role, type, ...)
    params, inputs, state names of the arguments of these roles (state:
                          loss_scale, growth_tracker, hysteresis, opt_state)
    loss_grad             the seed's name (None: a seed op in the body);
                          it defaults to 1.0 when not passed
    updates               {result name: the argument it is the next value of}
    text, pipeline, path, cache_hit
    save(directory)       writes the step for mpt.load_step (no tools needed
                          to load it)
    """

    def __init__(self, text, entry, target, path, pipeline, source_args,
                 init, cache_hit, names=None):
        self.text = text
        self.entry = entry
        self.target = target
        self.path = path
        self.pipeline = list(pipeline)
        self.cache_hit = cache_hit
        self._init = init
        self._lib = None
        # A loaded step: the CUDA runtime saved beside it, and the chip.
        self._runtime = None
        self._saved = None
        args, results = signature.parse(text, entry)
        if names is None:
            self._name_values(args, results, source_args)
        else:
            for values, given in zip((args, results), names):
                for v, n in zip(values, given):
                    v.name = n
        self.arguments, self.results = args, results
        self._by_name = {a.name: a for a in args}
        by_role = lambda role: tuple(a.name for a in args if a.role == role)
        self.params = by_role("param")
        self.inputs = by_role("input")
        self.state = tuple(a.name for a in args if a.role in STATE_ROLES)
        seeds = by_role("loss_grad")
        self.loss_grad = seeds[0] if seeds else None
        self.updates = {r.name: args[r.updates].name for r in results
                        if r.updates is not None}
        # Made by mpt-data-parallel: its grads are averaged across ranks.
        self.data_parallel = "shard.grid" in text

    # -- naming

    def _name_values(self, args, results, source_args):
        names = []
        params = []
        for a in args:
            if a.index < len(source_args):
                n = _identifier(source_args[a.index].name, a.index)
            elif a.role in _ROLE_NAMES:
                n = _ROLE_NAMES[a.role]
            else:
                n = None  # opt_state: below
            names.append(n)
            if a.role == "param":
                params.append(n)
        opt = [i for i, n in enumerate(names) if n is None]
        for i, n in zip(opt, _opt_state_names(
                [_identifier(n, 0) for n in params], len(opt))):
            names[i] = n
        for a, n in zip(args, _unique(names)):
            a.name = n
        rnames = []
        for r in results:
            if r.updates is not None and r.updates < len(args):
                n = args[r.updates].name
            elif r.role == "grad" and r.grad_of is not None:
                n = "grad_" + args[r.grad_of].name
            elif r.role == "param_low" and r.copy_of is not None:
                n = "%s_%s" % (args[r.copy_of].name, r.elem)
            elif r.role in _ROLE_NAMES:
                n = _ROLE_NAMES[r.role]
            else:
                n = "result%d" % r.index
            rnames.append(n)
        for r, n in zip(results, _unique(rnames)):
            r.name = n

    # -- state

    def arg(self, name):
        """The signature.Value of an argument, by name."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError("the step has no argument %r (it takes: %s)" % (
                name, ", ".join(self._by_name))) from None

    def init_state(self):
        """The state a first step takes: the initial loss scale (as
        compiled), growth tracker 0, hysteresis as compiled, optimizer
        state zero. {name: numpy array}."""
        out = {}
        for name in self.state:
            a = self._by_name[name]
            dtype = _np_dtype(a.elem)
            if a.role == "loss_scale":
                v = self._init.get("init_scale")
                out[name] = np.array(65536.0 if v is None else v, dtype)
            elif a.role == "hysteresis":
                v = self._init.get("hysteresis")
                out[name] = np.array(1 if v is None else v, dtype)
            else:
                if any(d is None for d in a.shape):
                    raise ValueError("state argument %s has a dynamic shape: "
                                     "pass it yourself" % a.describe())
                out[name] = np.zeros(a.shape, dtype)
        return out

    # -- calling

    @property
    def library(self):
        """The loaded library (mpt.aot.Library or mpt.cuda.Library),
        loaded at the first call."""
        if self._lib is None:
            so = os.path.join(self.path, _LIBRARY)
            try:
                if self.target == "cpu":
                    self._lib = aot.Library(so, self.text)
                else:
                    from mpt import cuda
                    self._lib = cuda.load(self.path, runtime=self._runtime)
            except OSError as e:
                raise OSError("cannot load the %s step library %s: %s%s" % (
                    self.target, so, e, _LOAD_HINTS[self.target])) from e
            except RuntimeError as e:
                if self._saved is None:
                    raise
                raise RuntimeError("%s (the step in %s was built for %s)" % (
                    e, self.path, self._saved.get("chip") or "its chip")) \
                    from e
        return self._lib

    # -- saving

    def save(self, directory, *, runtime=True):
        """Writes the compiled step into `directory` (made if missing) for
        mpt.load_step: the library (libstep.so), the step after the passes
        (step.mlir: the signature it is called with) and step.json (entry,
        target, pipeline, argument and result names, the initial state's
        values, the library's checksum). With `runtime` (target cuda) a copy
        of libmpt_cuda_runtime.so goes beside it, where libstep.so finds it
        ($ORIGIN). Files of an earlier save there are replaced; step.json is
        written last. Returns the directory."""
        src = os.path.join(self.path, _LIBRARY)
        if not os.path.exists(src):
            raise FileNotFoundError("the step's library %s is gone (a "
                                    "cache entry deleted?): compile it "
                                    "again" % src)
        os.makedirs(directory, exist_ok=True)
        meta_path = os.path.join(directory, _SAVED_META)
        if os.path.exists(meta_path):
            os.remove(meta_path)  # not loadable while half replaced
        dst = os.path.join(directory, _LIBRARY)
        if not (os.path.exists(dst) and os.path.samefile(src, dst)):
            shutil.copyfile(src, dst + ".tmp")
            os.replace(dst + ".tmp", dst)
        with open(os.path.join(directory, "step.mlir"), "w") as f:
            f.write(self.text)
        rt_name = None
        if self.target == "cuda" and runtime:
            from mpt import cuda
            rt = self._runtime or cuda.runtime_path()
            rt_name = cuda._RUNTIME_NAME
            rt_dst = os.path.join(directory, rt_name)
            if not (os.path.exists(rt_dst) and os.path.samefile(rt, rt_dst)):
                shutil.copyfile(rt, rt_dst + ".tmp")
                os.replace(rt_dst + ".tmp", rt_dst)
        chip = None
        m = re.search(r"\bchip=(\S+)", self.pipeline[-1]) \
            if self.pipeline else None
        if self.target == "cuda":
            chip = m.group(1) if m else "sm_90a"
        meta = {
            "format": SAVE_FORMAT, "kind": "mpt.Step",
            "entry": self.entry, "target": self.target, "chip": chip,
            "pipeline": self.pipeline, "init": self._init,
            "arguments": [a.name for a in self.arguments],
            "results": [r.name for r in self.results],
            "library": _LIBRARY, "sha256": _sha256(dst),
            "machine": platform.machine(), "system": platform.system(),
            "runtime": rt_name,
            "saved": datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
        }
        with open(meta_path + ".tmp", "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        os.replace(meta_path + ".tmp", meta_path)
        return directory

    def bind(self, *args, **kwargs):
        """The arguments in signature order as arrays, checked: each by
        position or by name, the seed 1.0 unless given."""
        n = len(self.arguments)
        if len(args) > n:
            raise TypeError("@%s takes %d arguments (%s), got %d" % (
                self.entry, n, ", ".join(self._by_name), len(args)))
        values = list(args) + [_MISSING] * (n - len(args))
        for name, v in kwargs.items():
            a = self._by_name.get(name)
            if a is None:
                raise TypeError("@%s got an unknown argument %r (it takes: "
                                "%s)" % (self.entry, name,
                                         ", ".join(self._by_name)))
            if values[a.index] is not _MISSING:
                raise TypeError("@%s got argument %r twice (by position and "
                                "by name)" % (self.entry, name))
            values[a.index] = v
        missing = []
        for a in self.arguments:
            if values[a.index] is _MISSING:
                if a.role == "loss_grad":
                    values[a.index] = np.ones(
                        [1 if d is None else d for d in a.shape],
                        _np_dtype(a.elem))
                else:
                    missing.append(a)
        if missing:
            hint = ""
            if any(a.role in STATE_ROLES for a in missing):
                hint = " (the first step's state: step.init_state())"
            raise TypeError("@%s missing %d argument%s: %s%s" % (
                self.entry, len(missing), "s" if len(missing) > 1 else "",
                ", ".join(a.describe() for a in missing), hint))
        return [self._check(a, v) for a, v in zip(self.arguments, values)]

    def _check(self, a, value):
        if self.target == "cuda" and not isinstance(
                value, (np.ndarray, np.generic)) and (
                hasattr(value, "__cuda_array_interface__") or
                hasattr(value, "__dlpack__")):
            return value  # device buffers: mpt.cuda checks them
        want = _np_dtype(a.elem)
        if isinstance(value, (np.ndarray, np.generic)):
            arr = np.asarray(value)
            if arr.dtype != want and a.elem == "bf16" and \
                    arr.dtype.name == "bfloat16":
                arr = arr.view(np.uint16)
            if arr.dtype != want:
                raise TypeError("@%s argument %s: dtype %s, expected %s%s" % (
                    self.entry, a.describe(), arr.dtype, want,
                    " (bf16 as its bits)" if a.elem == "bf16" else ""))
        else:
            try:
                raw = np.asarray(value)
            except Exception as e:
                raise TypeError("@%s argument %s: cannot read %s as an "
                                "array: %s" % (self.entry, a.describe(),
                                               type(value).__name__, e)) \
                    from e
            if raw.dtype.kind not in "biuf" or not np.can_cast(
                    raw.dtype, want, "same_kind") and raw.dtype.kind != "b":
                raise TypeError("@%s argument %s: %s of dtype %s, expected "
                                "%s" % (self.entry, a.describe(),
                                        type(value).__name__, raw.dtype,
                                        want))
            arr = raw.astype(want)
        shape = a.shape
        if arr.ndim != len(shape) or any(
                s is not None and s != d for s, d in zip(shape, arr.shape)):
            raise ValueError("@%s argument %s: shape %s does not fit %s" % (
                self.entry, a.describe(), tuple(arr.shape),
                "(" + ", ".join("?" if s is None else str(s)
                                for s in shape) + ("," if len(shape) == 1
                                                   else "") + ")"))
        return arr

    def __call__(self, *args, results="numpy", **kwargs):
        """Runs the step; Results by name. `results="device"` (target
        cuda) leaves them on the device as mpt.cuda.DeviceArrays."""
        arrays = self.bind(*args, **kwargs)
        lib = self.library
        try:
            if self.target == "cuda":
                outs = lib.call(self.entry, *arrays, results=results)
            else:
                if results != "numpy":
                    raise ValueError("results=%r needs target='cuda'"
                                     % (results,))
                outs = lib.call(self.entry, *arrays)
        except (TypeError, ValueError) as e:
            raise type(e)(self._name_arguments(str(e))) from e
        return Results((r.name, o) for r, o in zip(self.results, outs))

    def _name_arguments(self, message):
        """mpt.cuda's 'argument #3 (...)' with the argument's name."""
        def name(m):
            i = int(m.group(1))
            if i < len(self.arguments):
                return "argument #%d '%s'" % (i, self.arguments[i].name)
            return m.group(0)
        return re.sub(r"argument #(\d+)", name, message)

    def __repr__(self):
        return "<mpt.Step @%s %s: %s -> %s>" % (
            self.entry, self.target, ", ".join(self._by_name),
            ", ".join(r.name for r in self.results))


# ---------------------------------------------------------------- load_step

SAVE_FORMAT = 1
_SAVED_META = "step.json"
_LIBRARY = "libstep.so"
_LOAD_HINTS = {
    "cpu": " (a CPU step needs libmlir_c_runner_utils.so of LLVM 22 on the "
           "loader's path)",
    "cuda": " (a CUDA step needs libmpt_cuda_runtime.so: beside it, "
            "$MPT_CUDA_RUNTIME, or runtime=; and the NVIDIA driver's "
            "libcuda.so.1)",
}
# ELF e_machine -> platform.machine() names.
_ELF_MACHINES = {0x3E: ("x86_64", "amd64"), 0xB7: ("aarch64", "arm64"),
                 0x03: ("i386", "i686"), 0x28: ("armv7l", "arm"),
                 0x15: ("ppc64le", "ppc64"), 0xF3: ("riscv64",)}


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_library(path, target, directory):
    """That `path` is a shared library for this machine, built for
    `target` (a CUDA step links libmpt_cuda_runtime, a CPU step does
    not)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError("%s is not an ELF shared library" % path)
    little = data[5] == 1
    machine = int.from_bytes(data[18:20], "little" if little else "big")
    names = _ELF_MACHINES.get(machine)
    here = platform.machine().lower()
    if names is None or here not in sum(_ELF_MACHINES.values(), ()):
        pass  # an architecture we do not know: let the loader decide
    elif here not in names:
        raise ValueError("%s is built for %s, but this machine is %s: "
                         "compile and save the step on a %s machine" % (
                             path, names[0], here, here))
    cuda_lib = b"libmpt_cuda_runtime" in data
    if cuda_lib != (target == "cuda"):
        raise ValueError(
            "%s is a %s library, but %s says target %r: the library was "
            "built for another target (save the step again)" % (
                path, "CUDA" if cuda_lib else "CPU",
                os.path.join(directory, _SAVED_META), target))


def load_step(directory, *, target=None, runtime=None, verify=True):
    """A Step saved by `Step.save(directory)`, loaded without any tool:
    no mpt-opt, LLVM, C compiler or CUDA toolkit, only numpy (and, to call
    a CUDA step, a GPU with its driver). The library itself is opened at
    the first call, as for mpt.compile.

    target    None, or the target the caller expects ("cpu" or "cuda"): a
              step saved for another one raises ValueError
    runtime   (cuda) the libmpt_cuda_runtime.so to use; default
              $MPT_CUDA_RUNTIME, else the copy saved beside the step, else
              one in the directory above it (several steps saved with
              runtime=False under one directory holding the runtime), else
              lib/ beside $MPT_TOOLS_DIR
    verify    check the library's checksum against step.json
    """
    if target is not None:
        _check_target(target)
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError("no saved mpt step at %r: %s" % (
            directory, "not a directory" if os.path.exists(directory)
            else "the directory does not exist"))
    meta_path = os.path.join(directory, _SAVED_META)
    if not os.path.exists(meta_path):
        hint = "Step.save(directory) writes it"
        if os.path.exists(os.path.join(directory, "meta.json")):
            hint = ("it is a cache entry of mpt.compile: compile again, or "
                    "step.save() a directory to load elsewhere")
        raise FileNotFoundError("%s holds no saved mpt step (no %s; %s)" % (
            directory, _SAVED_META, hint))
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except ValueError as e:
        raise ValueError("%s is not a saved step's description: %s"
                         % (meta_path, e)) from e
    if not isinstance(meta, dict) or meta.get("kind") != "mpt.Step":
        raise ValueError("%s is not a saved step's description (no \"kind\": "
                         "\"mpt.Step\")" % meta_path)
    fmt = meta.get("format")
    if not isinstance(fmt, int) or fmt > SAVE_FORMAT:
        raise ValueError("%s was saved in format %r; this mpt reads format "
                         "%d and older: load it with a newer mpt"
                         % (meta_path, fmt, SAVE_FORMAT))
    saved_target = meta.get("target")
    if saved_target not in TARGETS:
        raise ValueError("%s names target %r, not 'cpu' or 'cuda'"
                         % (meta_path, saved_target))
    if target is not None and target != saved_target:
        raise ValueError("the step in %s was built for target %r, not %r"
                         % (directory, saved_target, target))
    lib = os.path.join(directory, meta.get("library", _LIBRARY))
    if not os.path.exists(lib):
        raise FileNotFoundError("%s: the step's library %s is missing"
                                % (directory, os.path.basename(lib)))
    _check_library(lib, saved_target, directory)
    if verify and meta.get("sha256") and _sha256(lib) != meta["sha256"]:
        raise ValueError("%s does not match the library saved with %s "
                         "(sha256 differs): the directory was changed after "
                         "Step.save" % (lib, _SAVED_META))
    text_path = os.path.join(directory, "step.mlir")
    if not os.path.exists(text_path):
        raise FileNotFoundError("%s: step.mlir (the step's signature) is "
                                "missing" % directory)
    with open(text_path) as f:
        text = f.read()
    entry = meta.get("entry")
    if entry not in signature.public_functions(text):
        raise ValueError("%s: step.mlir has no public function @%s"
                         % (directory, entry))
    names = (meta.get("arguments"), meta.get("results"))
    args, results = signature.parse(text, entry)
    if names[0] is None or names[1] is None or \
            len(names[0]) != len(args) or len(names[1]) != len(results):
        raise ValueError("%s: the argument and result names of %s do not "
                         "fit @%s in step.mlir" % (directory, _SAVED_META,
                                                   entry))
    init = dict(meta.get("init") or {})
    step = Step(text, entry, saved_target, directory,
                meta.get("pipeline") or [], [], init, False, names=names)
    step._saved = meta
    if saved_target == "cuda":
        env = os.environ.get("MPT_CUDA_RUNTIME")
        beside = os.path.join(directory, meta.get("runtime") or "")
        if runtime is not None:
            step._runtime = os.fspath(runtime)
        elif env:
            step._runtime = env
        elif meta.get("runtime") and os.path.exists(beside):
            step._runtime = os.path.abspath(beside)
        else:  # a runtime shared by several steps, where $ORIGIN/.. is
            above = os.path.join(os.path.dirname(os.path.abspath(
                directory)), "libmpt_cuda_runtime.so")
            if os.path.exists(above):
                step._runtime = above
    return step


Step.load = staticmethod(load_step)


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _np_dtype(elem):
    return np.dtype(aot._NP_TYPES[elem])
