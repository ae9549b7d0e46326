"""Ahead-of-time GPU path: compile a step to a shared library and call it.

  mpt-opt --mpt-lower-to-nvvm | mlir-translate --mlir-to-llvmir | llc | cc
      (linked with libmpt_cuda_runtime)

The library's public functions take memref descriptors of *device* buffers
(`_mlir_ciface_<name>`, as on the CPU path) and return descriptors of device
buffers that the caller owns. Every op of the step runs in a kernel; the
step returns after its stream is done. `Library.call` copies numpy arrays to
the device, calls, copies the results back and frees every device buffer.

Compiling needs mpt-opt, mlir-translate, llc, a C compiler and the CUDA
toolkit (ptxas, for format=bin); running needs only the library, the runtime
and a GPU, so a step can be built on one machine and run on another:
`build()` writes libstep.so and step.mlir (the signature) into a directory
that `load()` opens.

Tools are found as in mpt.aot ($MPT_TOOLS_DIR, $MPT_LLVM_TOOLS_DIR, PATH);
the runtime is $MPT_CUDA_RUNTIME, else lib/libmpt_cuda_runtime.so beside
$MPT_TOOLS_DIR.
"""

import ctypes
import os
import shutil
import tempfile

import numpy as np

from mpt import aot

_RUNTIME_NAME = "libmpt_cuda_runtime.so"


def runtime_path():
    """The CUDA runtime library the steps link against."""
    env = os.environ.get("MPT_CUDA_RUNTIME")
    if env:
        return env
    tools = os.environ.get("MPT_TOOLS_DIR")
    if tools:
        path = os.path.join(os.path.dirname(tools), "lib", _RUNTIME_NAME)
        if os.path.exists(path):
            return path
    raise aot.ToolError("cannot find %s: set MPT_CUDA_RUNTIME or "
                        "MPT_TOOLS_DIR (its ../lib holds it)" % _RUNTIME_NAME)


def pipeline_options(chip="sm_90a", features="+ptx80", fmt="bin",
                     opt_level=3, extra=""):
    opts = "chip=%s features=%s format=%s opt-level=%d" % (
        chip, features, fmt, opt_level)
    return (opts + " " + extra).strip()


def build(mlir_text, outdir, extra_passes=(), chip="sm_90a",
          features="+ptx80", fmt="bin", opt_level=3, pipeline_extra="",
          runtime=None):
    """Compiles MLIR text (on tensors) into outdir/libstep.so; returns outdir.

    `extra_passes` run first (e.g. the AMP pipeline); outdir/step.mlir keeps
    the step they produce (its signature is what `load` calls)."""
    os.makedirs(outdir, exist_ok=True)
    src = os.path.join(outdir, "step.mlir")
    with open(src, "w") as f:
        f.write(mlir_text)
    mpt_opt = aot._tool("mpt-opt", "MPT_TOOLS_DIR")
    if extra_passes:
        mlir_text = aot._run([mpt_opt, src] + list(extra_passes)).decode()
        with open(src, "w") as f:
            f.write(mlir_text)
    opts = pipeline_options(chip, features, fmt, opt_level, pipeline_extra)
    lowered = os.path.join(outdir, "step.gpu.mlir")
    aot._run([mpt_opt, src, "--mpt-lower-to-nvvm=" + opts, "-o", lowered])
    llvm_ir = aot._run([aot._tool("mlir-translate", "MPT_LLVM_TOOLS_DIR"),
                        "--mlir-to-llvmir", lowered])
    obj = os.path.join(outdir, "step.o")
    aot._run([aot._tool("llc", "MPT_LLVM_TOOLS_DIR"), "-O2",
              "-filetype=obj", "-relocation-model=pic", "-o", obj],
             stdin=llvm_ir)
    runtime = runtime or runtime_path()
    so = os.path.join(outdir, "libstep.so")
    cc = os.environ.get("MPT_CC") or shutil.which("cc") or "gcc"
    # The runtime is found beside the step at run time ($ORIGIN), so that a
    # directory holding both can be moved to another machine.
    aot._run([cc, "-shared", "-Wl,-Bsymbolic", "-o", so, obj,
              "-L" + os.path.dirname(os.path.abspath(runtime)),
              "-l:" + os.path.basename(runtime),
              "-Wl,-rpath,$ORIGIN", "-Wl,-rpath,$ORIGIN/.."])
    os.remove(obj)
    return outdir


def compile_module(mlir_text, workdir=None, **kwargs):
    """build() into a fresh directory, then load() it."""
    workdir = workdir or tempfile.mkdtemp(prefix="mpt-cuda-")
    return load(build(mlir_text, workdir, **kwargs))


_ERROR_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_char_p,
                                  ctypes.c_void_p)


class Runtime:
    """libmpt_cuda_runtime, with errors turned into Python exceptions."""

    _instance = None

    @classmethod
    def get(cls, path=None):
        if cls._instance is None:
            cls._instance = cls(path or runtime_path())
        return cls._instance

    def __init__(self, path):
        # RTLD_GLOBAL: the step library binds its mgpu* calls to this copy.
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        lib = self.lib
        lib.mptMemAlloc.restype = ctypes.c_void_p
        lib.mptMemAlloc.argtypes = [ctypes.c_uint64]
        lib.mptMemFree.argtypes = [ctypes.c_void_p]
        lib.mptMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                  ctypes.c_uint64]
        lib.mptRuntimeGetError.restype = ctypes.c_char_p
        lib.mptMemGetInfo.argtypes = [ctypes.POINTER(ctypes.c_uint64)] * 2
        # Errors are recorded (mptRuntimeGetError), not fatal: the handler
        # must be set before a step's modules load (its constructor).
        self._handler = _ERROR_HANDLER(lambda code, msg, data: None)
        lib.mptRuntimeSetErrorHandler(self._handler, None)

    def check(self, what):
        err = self.lib.mptRuntimeGetError()
        if err:
            self.lib.mptRuntimeClearError()
            raise RuntimeError("%s: %s" % (what, err.decode()))

    def to_device(self, array):
        nbytes = array.nbytes
        ptr = self.lib.mptMemAlloc(nbytes) if nbytes else None
        self.check("allocating %d bytes" % nbytes)
        if nbytes:
            self.lib.mptMemcpy(ptr, array.ctypes.data, nbytes)
            self.check("copying %d bytes to the device" % nbytes)
        return ptr

    def to_host(self, ptr, nbytes, out):
        if nbytes:
            self.lib.mptMemcpy(out.ctypes.data, ptr, nbytes)
            self.check("copying %d bytes from the device" % nbytes)

    def free(self, ptr):
        self.lib.mptMemFree(ptr)
        self.check("freeing a device buffer")

    def mem_info(self):
        free, total = ctypes.c_uint64(), ctypes.c_uint64()
        self.lib.mptMemGetInfo(ctypes.byref(free), ctypes.byref(total))
        return free.value, total.value


def load(outdir, runtime=None):
    """Opens a directory written by build()."""
    rt = Runtime.get(runtime)
    with open(os.path.join(outdir, "step.mlir")) as f:
        text = f.read()
    lib = ctypes.CDLL(os.path.join(outdir, "libstep.so"))
    rt.check("loading the step's GPU modules")
    return Library(lib, text, rt)


def _describe(i, t):
    return "argument #%d (%s)" % (i, t.text.strip())


class Library:
    """A compiled GPU step: call its public functions with numpy arrays."""

    def __init__(self, lib, mlir_text, runtime):
        self.lib = lib
        self.text = mlir_text
        self.rt = runtime

    def _check_array(self, name, i, a, t):
        want = np.dtype(aot._NP_TYPES[t.elem])
        arr = np.asarray(a)
        if arr.dtype != want:
            raise TypeError("@%s %s: dtype %s, expected %s (%s)" % (
                name, _describe(i, t), arr.dtype, want, t.elem))
        if arr.ndim != t.rank or any(s is not None and s != d
                                     for s, d in zip(t.shape, arr.shape)):
            raise ValueError("@%s %s: shape %s does not fit" % (
                name, _describe(i, t), tuple(arr.shape)))
        return np.require(arr, requirements="C")  # keeps 0-d arrays 0-d

    def call(self, name, *arrays):
        """Calls @name; returns its results as a list of numpy arrays."""
        arg_types, res_types = aot.parse_signature(self.text, name)
        if len(arrays) != len(arg_types):
            raise TypeError("@%s takes %d arguments, got %d" % (
                name, len(arg_types), len(arrays)))
        if any(t.shape is None for t in res_types):
            raise ValueError("scalar results are not supported; return "
                             "tensors")
        device, c_args, keep = [], [], []
        try:
            for i, (a, t) in enumerate(zip(arrays, arg_types)):
                if t.shape is None:
                    c_args.append(aot._CTYPES[t.elem](a))
                    continue
                arr = self._check_array(name, i, a, t)
                ptr = self.rt.to_device(arr)
                device.append(ptr)
                desc = aot._descriptor_class(t.rank)()
                desc.allocated = desc.aligned = ptr
                desc.offset = 0
                for d, (size, stride) in enumerate(zip(arr.shape,
                                                       arr.strides)):
                    desc.sizes[d] = size
                    desc.strides[d] = stride // max(arr.itemsize, 1)
                keep.append(desc)
                c_args.append(ctypes.byref(desc))
            descs = self._invoke(name, res_types, c_args)
            self.rt.check("running @%s" % name)
            outs = [self._result(d, t) for d, t in zip(descs, res_types)]
            self._free_results(descs, device)
            return outs
        finally:
            for ptr in device:
                if ptr:
                    self.rt.free(ptr)

    def _invoke(self, name, res_types, c_args):
        fn = getattr(self.lib, "_mlir_ciface_" + name)
        fn.restype = None
        if not res_types:
            fn(*c_args)
            return []
        classes = [aot._descriptor_class(t.rank) for t in res_types]
        if len(classes) == 1:
            out = classes[0]()
        else:
            out = aot._results_class(tuple(classes))()
        fn(ctypes.byref(out), *c_args)
        if len(classes) == 1:
            return [out]
        return [getattr(out, "r%d" % i) for i in range(len(classes))]

    def _result(self, desc, t):
        """Copies a result to the host (results are contiguous: identity
        layouts at the function boundary)."""
        dtype = np.dtype(aot._NP_TYPES[t.elem])
        shape = [desc.sizes[i] for i in range(t.rank)]
        out = np.empty(shape, dtype)
        expect = 1
        for i in reversed(range(t.rank)):
            if shape[i] > 1 and desc.strides[i] != expect:
                raise RuntimeError("result of type %s is not contiguous"
                                   % t.text)
            expect *= shape[i]
        base = (desc.aligned or 0) + desc.offset * dtype.itemsize
        self.rt.to_host(base, out.nbytes, out)
        return out

    def _free_results(self, descs, inputs):
        """Frees each result buffer once (results may share one, or be an
        argument's buffer, which the caller frees)."""
        done = set(inputs) | {0, None}
        for desc in descs:
            if desc.allocated not in done:
                done.add(desc.allocated)
                self.rt.free(desc.allocated)
