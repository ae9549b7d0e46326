"""Ahead-of-time CPU path: compile a step to a shared library and call it.

  mpt-opt --mpt-lower-to-cpu | mlir-translate --mlir-to-llvmir | llc | cc

Public functions get C entry points (`_mlir_ciface_<name>`) that take memref
descriptors by pointer; this module builds those descriptors from numpy
arrays with ctypes and copies the results back into numpy arrays.

Tools are found in $MPT_TOOLS_DIR (mpt-opt) and $MPT_LLVM_TOOLS_DIR
(mlir-translate, llc), else on PATH.
"""

import ctypes
import functools
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

_NP_TYPES = {
    "f64": np.float64, "f32": np.float32, "f16": np.float16,
    "bf16": np.uint16,  # raw bits; numpy has no bfloat16
    "i64": np.int64, "i32": np.int32, "i8": np.int8, "i1": np.bool_,
}
_CTYPES = {"f64": ctypes.c_double, "f32": ctypes.c_float,
           "i64": ctypes.c_int64, "i32": ctypes.c_int32}
# memref.get_global results carry this "allocated" pointer: never freed.
_GLOBAL_SENTINEL = 0xDEADBEEF


class ToolError(RuntimeError):
    """A tool failed: `returncode` (negative: killed by that signal; None:
    timed out or not found), its `stderr`, and whether it `timed_out`."""

    def __init__(self, message, returncode=None, stderr="", timed_out=False):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
        self.timed_out = timed_out


def _tool(name, env):
    for d in (os.environ.get(env), os.environ.get("MPT_LLVM_TOOLS_DIR"),
              os.environ.get("MPT_TOOLS_DIR")):
        if d and os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    found = shutil.which(name)
    if not found:
        raise ToolError("cannot find '%s': set MPT_TOOLS_DIR / "
                        "MPT_LLVM_TOOLS_DIR or put it on PATH" % name)
    return found


def _run(cmd, stdin=None, timeout=None):
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError("%s timed out after %s s" % (" ".join(cmd), timeout),
                        timed_out=True)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace")
        raise ToolError("%s failed:\n%s" % (" ".join(cmd), err),
                        proc.returncode, err)
    return proc.stdout


class TensorType:
    """A ranked tensor type (or a scalar when shape is None)."""

    def __init__(self, text):
        self.text = text
        m = re.fullmatch(r"tensor<(.*)>", text.strip())
        if m:
            parts = m.group(1).split("x")
            self.elem = parts[-1]
            self.shape = [None if p == "?" else int(p) for p in parts[:-1]]
        else:
            self.elem, self.shape = text.strip(), None
        if self.elem not in _NP_TYPES:
            raise ValueError("unsupported element type in '%s'" % text)

    @property
    def rank(self):
        return len(self.shape)


def _strip_braces(text):
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _split_top(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def parse_signature(mlir_text, name):
    """(argument types, result types) of `func.func @name`."""
    m = re.search(r"func\.func\s+(?:public\s+)?@%s\s*\(" % re.escape(name),
                  mlir_text)
    if not m:
        raise ValueError("no function @%s in the module" % name)
    i, depth = m.end(), 1
    start = i
    while depth:
        depth += {"(": 1, ")": -1}.get(mlir_text[i], 0)
        i += 1
    args = _strip_braces(mlir_text[start:i - 1])
    rest = mlir_text[i:]
    # The signature ends where the body or the function's attributes begin.
    ends = [k for k in (rest.find("{\n"), rest.find(" attributes "))
            if k >= 0]
    head = _strip_braces(rest[:min(ends)] if ends else rest)
    arg_types = [TensorType(a.split(":", 1)[1]) for a in _split_top(args)]
    results = []
    if "->" in head:
        res = head.split("->", 1)[1].strip()
        if res.startswith("(") and res.endswith(")"):
            res = res[1:-1]
        results = [TensorType(r) for r in _split_top(res)]
    return arg_types, results


@functools.lru_cache(maxsize=None)
def _descriptor_class(rank):
    """The ctypes struct of a memref descriptor of `rank` (one class per
    rank: making a ctypes class costs tens of µs, more than a step's
    kernel launch)."""
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank),
                   ("strides", ctypes.c_int64 * rank)]
    return type("MemRef%dD" % rank, (ctypes.Structure,), {"_fields_": fields})


@functools.lru_cache(maxsize=None)
def _results_class(classes):
    """The ctypes struct a function with several results returns them in,
    one field per result descriptor (cached like _descriptor_class)."""
    return type("Results", (ctypes.Structure,), {"_fields_": [
        ("r%d" % i, c) for i, c in enumerate(classes)]})


def _to_descriptor(array, ttype):
    desc = _descriptor_class(ttype.rank)()
    desc.allocated = desc.aligned = array.ctypes.data
    desc.offset = 0
    for i, (size, stride) in enumerate(zip(array.shape, array.strides)):
        desc.sizes[i] = size
        desc.strides[i] = stride // array.itemsize
    return desc


def _from_descriptor(desc, ttype):
    """Copies a result out of its buffer (freed afterwards: _free_results)."""
    dtype = np.dtype(_NP_TYPES[ttype.elem])
    shape = [desc.sizes[i] for i in range(ttype.rank)]
    strides = [desc.strides[i] * dtype.itemsize for i in range(ttype.rank)]
    count = int(np.prod(shape)) if shape else 1
    base = desc.aligned + desc.offset * dtype.itemsize
    if count == 0:
        out = np.zeros(shape, dtype)
    else:
        span = 1 + sum((s - 1) * abs(st) for s, st in
                       zip(shape, [desc.strides[i] for i in
                                   range(ttype.rank)]))
        buf = (ctypes.c_char * (span * dtype.itemsize)).from_address(base)
        flat = np.frombuffer(buf, dtype=dtype, count=span)
        out = np.lib.stride_tricks.as_strided(flat, shape, strides).copy()
    return out


def _free_results(descs, libc, inputs):
    """Frees each result buffer once. Results may share one allocation (a
    value returned twice, a value and its reshape, results folded into one
    buffer), so buffers are deduplicated by their allocated pointer; the
    caller's input buffers and constant globals are never freed."""
    done = set(inputs) | {_GLOBAL_SENTINEL, 0, None}
    for desc in descs:
        if desc.allocated not in done:
            done.add(desc.allocated)
            libc.free(ctypes.c_void_p(desc.allocated))


class Library:
    """A compiled module: call its public functions with numpy arrays."""

    def __init__(self, so_path, mlir_text):
        self.path = so_path
        self.lib = ctypes.CDLL(so_path)
        self.text = mlir_text
        self.libc = ctypes.CDLL(None)
        self.libc.free.argtypes = [ctypes.c_void_p]

    def call(self, name, *arrays):
        """Calls @name; returns its results as a list of numpy arrays."""
        arg_types, res_types = parse_signature(self.text, name)
        if len(arrays) != len(arg_types):
            raise ValueError("@%s takes %d arguments, got %d" % (
                name, len(arg_types), len(arrays)))
        keep, c_args, inputs = [], [], set()
        for a, t in zip(arrays, arg_types):
            if t.shape is None:
                c_args.append(_CTYPES[t.elem](a))
                continue
            arr = np.require(a, dtype=_NP_TYPES[t.elem], requirements="C")
            if len(arr.shape) != t.rank or any(
                    s is not None and s != d for s, d in zip(t.shape,
                                                             arr.shape)):
                raise ValueError("argument of shape %s does not fit %s" % (
                    arr.shape, t.text))
            desc = _to_descriptor(arr, t)
            keep += [arr, desc]
            inputs.add(arr.ctypes.data)
            c_args.append(ctypes.byref(desc))
        fn = getattr(self.lib, "_mlir_ciface_" + name)
        if any(t.shape is None for t in res_types):
            raise ValueError("scalar results are not supported; return "
                             "tensors")
        classes = [_descriptor_class(t.rank) for t in res_types]
        if not res_types:
            fn.restype = None
            fn(*c_args)
            return []
        if len(res_types) == 1:
            out = classes[0]()
        else:
            out = _results_class(tuple(classes))()
        fn.restype = None
        fn(ctypes.byref(out), *c_args)
        descs = [out] if len(res_types) == 1 else [
            getattr(out, "r%d" % i) for i in range(len(res_types))]
        # Copy every result before freeing any: a later result may read a
        # buffer that an earlier one shares.
        outs = [_from_descriptor(d, t) for d, t in zip(descs, res_types)]
        _free_results(descs, self.libc, inputs)
        return outs


def compile_module(mlir_text, workdir=None, pipeline="mpt-lower-to-cpu",
                   extra_passes=(), opt_level=2, timeout=None):
    """Compiles MLIR text (on tensors) to a shared library; returns Library.

    `extra_passes` run before the CPU lowering (e.g. the AMP pipeline);
    `timeout` (seconds) bounds each tool run."""
    workdir = workdir or tempfile.mkdtemp(prefix="mpt-aot-")
    src = os.path.join(workdir, "step.mlir")
    with open(src, "w") as f:
        f.write(mlir_text)
    opt = [_tool("mpt-opt", "MPT_TOOLS_DIR"), src] + list(extra_passes)
    if extra_passes:
        transformed = _run(opt, timeout=timeout)
        mlir_text = transformed.decode()
        with open(src, "w") as f:
            f.write(mlir_text)
        opt = [_tool("mpt-opt", "MPT_TOOLS_DIR"), src]
    llvm_dialect = _run(opt + ["--" + pipeline], timeout=timeout)
    llvm_ir = _run([_tool("mlir-translate", "MPT_LLVM_TOOLS_DIR"),
                    "--mlir-to-llvmir"], stdin=llvm_dialect, timeout=timeout)
    obj = os.path.join(workdir, "step.o")
    _run([_tool("llc", "MPT_LLVM_TOOLS_DIR"), "-O%d" % opt_level,
          "-filetype=obj", "-relocation-model=pic", "-o", obj],
         stdin=llvm_ir, timeout=timeout)
    so = os.path.join(workdir, "libstep.so")
    cc = os.environ.get("MPT_CC") or shutil.which("cc") or "gcc"
    # -Bsymbolic: calls inside the library bind to its own functions, even
    # when a name (e.g. "step") also exists in libc.
    # memrefCopy (strided copies) comes from MLIR's C runner utils.
    mlir_lib = os.path.join(os.path.dirname(os.path.dirname(
        _tool("mlir-translate", "MPT_LLVM_TOOLS_DIR"))), "lib")
    _run([cc, "-shared", "-Wl,-Bsymbolic", "-o", so, obj,
          "-L" + mlir_lib, "-Wl,-rpath," + mlir_lib, "-lmlir_c_runner_utils",
          "-lm"], timeout=timeout)
    return Library(so, mlir_text)
