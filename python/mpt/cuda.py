"""Ahead-of-time GPU path: compile a step to a shared library and call it.

  mpt-opt --mpt-lower-to-nvvm | mlir-translate --mlir-to-llvmir | llc | cc
      (linked with libmpt_cuda_runtime)

The library's public functions take memref descriptors of *device* buffers
(`_mlir_ciface_<name>`, as on the CPU path) and return descriptors of device
buffers that the caller owns. Every op of the step runs in a kernel; the
step returns after its stream is done. `Library.call` copies numpy arrays to
the device, calls, copies the results back and frees every device buffer.
Arguments may also be device buffers (`__cuda_array_interface__` or DLPack:
PyTorch CUDA tensors), used without copies, and with results="device" the
results stay on the device as DeviceArrays (DLPack and
`__cuda_array_interface__` producers that free their buffer once nothing
holds it); see docs/GPU.md.

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
import functools
import os
import shutil
import sys
import tempfile
import threading
import time

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
# CUDA's legacy default stream (CU_STREAM_LEGACY), as the array protocols
# spell it.
_LEGACY_STREAM = 1


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
        lib.mgpuStreamSynchronize.argtypes = [ctypes.c_void_p]
        lib.mgpuMemFree.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        # A runtime built before mptGetDefaultDevice existed runs steps on
        # device 0 unless someone called mgpuSetDefaultDevice.
        self._default_device = getattr(lib, "mptGetDefaultDevice", None)
        if self._default_device is not None:
            self._default_device.restype = ctypes.c_int32
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

    def free(self, ptr, stream=None):
        """Frees a device buffer now (mptMemFree), or with a `stream`,
        after the work queued on that stream (mgpuMemFree: stream-ordered
        for a buffer the step allocated from the memory pool)."""
        if stream is None:
            self.lib.mptMemFree(ptr)
        else:
            self.lib.mgpuMemFree(ptr, stream)
        self.check("freeing a device buffer")

    def mem_info(self):
        free, total = ctypes.c_uint64(), ctypes.c_uint64()
        self.lib.mptMemGetInfo(ctypes.byref(free), ctypes.byref(total))
        return free.value, total.value

    def device(self):
        """The ordinal of the device a step called on this thread uses."""
        if self._default_device is None:
            return 0
        return self._default_device()

    def sync_stream(self, stream):
        """Waits for the work queued on a CUDA stream (a CUstream handle, or
        1 and 2 for the legacy and per-thread default streams)."""
        self.lib.mgpuStreamSynchronize(stream)
        self.check("synchronising the producer's stream %#x" % stream)


def load(outdir, runtime=None):
    """Opens a directory written by build()."""
    rt = Runtime.get(runtime)
    with open(os.path.join(outdir, "step.mlir")) as f:
        text = f.read()
    lib = ctypes.CDLL(os.path.join(outdir, "libstep.so"))
    rt.check("loading the step's GPU modules")
    return Library(lib, text, rt)


# ---------------------------------------------------------------- ranks

_UNIQUE_ID_BYTES = 128
_ID_KEY = "mpt_nccl_unique_id"


def _bundled_nccl():
    """libnccl.so.2 as PyTorch's CUDA wheels ship it (nvidia/nccl/lib on
    sys.path), or None."""
    for base in sys.path:
        path = os.path.join(base or ".", "nvidia", "nccl", "lib",
                            "libnccl.so.2")
        if os.path.exists(path):
            return path
    return None


def _exchange_unique_id(rt, rank, world_size, timeout):
    """Rank 0 makes the NCCL unique id; every rank gets it through
    torch.distributed's TCPStore at MASTER_ADDR:MASTER_PORT + 1 (torchrun
    sets both), or through the file $MPT_DISTRIBUTED_ID_FILE, which must
    not exist before the launch (a rank reads whatever id it holds)."""
    def make():
        buf = ctypes.create_string_buffer(_UNIQUE_ID_BYTES)
        if rt.lib.mptDistributedGetUniqueId(buf) != 0:
            rt.check("making the NCCL unique id")
        return buf.raw
    if world_size == 1:
        return make()
    path = os.environ.get("MPT_DISTRIBUTED_ID_FILE")
    if path:
        if rank == 0:
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "wb") as f:
                f.write(make())
            os.replace(tmp, path)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(path, "rb") as f:
                    data = f.read()
                if len(data) == _UNIQUE_ID_BYTES:
                    return data
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("rank %d: no NCCL unique id in %s after "
                                   "%g s (rank 0 writes it)" % (
                                       rank, path, timeout))
            time.sleep(0.05)
    addr, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
    if not addr or not port:
        raise ValueError("init_distributed: world size %d needs the NCCL "
                         "unique id exchanged: set MASTER_ADDR and "
                         "MASTER_PORT (torchrun does), set "
                         "MPT_DISTRIBUTED_ID_FILE to a shared file, or pass "
                         "unique_id" % world_size)
    import datetime
    import torch.distributed as dist
    # torchrun's own store is at MASTER_PORT; ours is at the next port.
    store = dist.TCPStore(addr, int(port) + 1, world_size, rank == 0,
                          timeout=datetime.timedelta(seconds=timeout))
    if rank == 0:
        uid = make()
        store.set(_ID_KEY, uid)
        # Rank 0's store is the server: it must outlive every rank's read.
        store.wait(["%s_read_%d" % (_ID_KEY, r)
                    for r in range(1, world_size)])
        return uid
    uid = bytes(store.get(_ID_KEY))
    store.set("%s_read_%d" % (_ID_KEY, rank), b"1")
    return uid


def init_distributed(rank=None, world_size=None, local_rank=None,
                     unique_id=None, timeout=300.0, runtime=None):
    """Makes this process rank `rank` of `world_size` for data-parallel
    steps (mpt-data-parallel): their all-reduces then go through NCCL. The
    defaults come from the launcher's environment (torchrun: RANK,
    WORLD_SIZE, LOCAL_RANK; without them a world of one). LOCAL_RANK picks
    the GPU (mgpuSetDefaultDevice on this thread). The NCCL unique id is
    made by rank 0 and shared as _exchange_unique_id says, unless given.
    NCCL is $MPT_NCCL_LIBRARY, else PyTorch's bundled libnccl.so.2, else the
    system's. Returns (rank, world_size)."""
    env = os.environ
    rank = int(env.get("RANK", 0)) if rank is None else int(rank)
    world_size = (int(env.get("WORLD_SIZE", 1)) if world_size is None
                  else int(world_size))
    local_rank = (int(env.get("LOCAL_RANK", 0)) if local_rank is None
                  else int(local_rank))
    if not 0 <= rank < world_size:
        raise ValueError("init_distributed: rank %d of world size %d" % (
            rank, world_size))
    nccl_version(runtime)  # loads NCCL, or says why it cannot
    rt = Runtime.get(runtime)
    rt.lib.mgpuSetDefaultDevice(local_rank)
    if unique_id is None:
        unique_id = _exchange_unique_id(rt, rank, world_size, timeout)
    if len(unique_id) != _UNIQUE_ID_BYTES:
        raise ValueError("init_distributed: a unique id has %d bytes, not "
                         "%d" % (len(unique_id), _UNIQUE_ID_BYTES))
    if rt.lib.mptDistributedInit(unique_id, rank, world_size) != 0:
        rt.check("joining the NCCL communicator as rank %d of %d" % (
            rank, world_size))
    return rank, world_size


def finalize_distributed(runtime=None):
    """Destroys the communicator: the process is a world of one again."""
    Runtime.get(runtime).lib.mptDistributedFinalize()


def distributed_info(runtime=None):
    """(rank, world_size) of this process (0 and 1 without a
    communicator)."""
    lib = Runtime.get(runtime).lib
    return lib.mptDistributedRank(), lib.mptDistributedWorldSize()


def nccl_version(runtime=None):
    """NCCL's version code (22703 for 2.27.3), loading NCCL as
    init_distributed would; raises RuntimeError when it cannot be loaded."""
    if not os.environ.get("MPT_NCCL_LIBRARY"):
        bundled = _bundled_nccl()
        if bundled:
            os.environ["MPT_NCCL_LIBRARY"] = bundled
    rt = Runtime.get(runtime)
    version = rt.lib.mptDistributedNcclVersion()
    if version < 0:
        rt.check("loading NCCL")
    return version


def _describe(i, t):
    return "argument #%d (%s)" % (i, t.text.strip())


# ---------------------------------------------------------------- buffers

_REFS_LOCK = threading.RLock()


class _Buffer:
    """One device buffer that a call's arguments and results may share, and
    what happens when the last of its holders lets go: a buffer the step or
    this module allocated is freed (Runtime.free), a DLPack producer's
    deleter is called, a caller's object is let go. The creator holds the
    first reference."""

    __slots__ = ("ptr", "refs", "_done", "_keep", "_free_on")

    def __init__(self, ptr, done=None, keep=None, refs=1, free_on=None):
        """`done()` runs when the last holder lets go; or, with `free_on`
        = (runtime, stream), runtime.free(ptr, stream) does (a result
        buffer: no callable made per result)."""
        self.ptr, self.refs, self._done, self._keep = ptr, refs, done, keep
        self._free_on = free_on

    def retain(self):
        with _REFS_LOCK:
            self.refs += 1

    def release(self):
        with _REFS_LOCK:
            self.refs -= 1
            if self.refs:
                return
            done, self._done, self._keep = self._done, None, None
            free_on, self._free_on = self._free_on, None
        if done is not None:
            done()
        elif free_on is not None:
            free_on[0].free(self.ptr, free_on[1])


def _row_major(shape, strides, unit=1):
    """Whether `strides` (in units of `unit`: 1 for elements, the item size
    for bytes) are those of a C-contiguous array (the stride of a dimension
    of size 1 does not matter)."""
    expect = unit
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size != 1 and stride != expect:
            return False
        expect *= size
    return True


def _copy_strided(read, base, shape, strides, dtype):
    """A numpy array of `shape` read with `read(ptr, nbytes, out)` from the
    strided elements (strides in elements, any sign) at `base`."""
    out = np.empty(shape, dtype)
    if out.size == 0:
        return out
    lo = sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    hi = sum((n - 1) * s for n, s in zip(shape, strides) if s > 0)
    flat = np.empty(hi - lo + 1, dtype)
    read(base + lo * dtype.itemsize, flat.nbytes, flat)
    out[...] = np.lib.stride_tricks.as_strided(
        flat[-lo:], shape, [s * dtype.itemsize for s in strides])
    return out


def _read_host(ptr, nbytes, out):
    ctypes.memmove(out.ctypes.data, ptr, nbytes)


# ----------------------------------------------------------------- DLPack
# The unversioned ABI of dlpack.h, which every producer returns when the
# consumer asks for no `max_version`.

_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST, _KDL_CUDA_MANAGED = 1, 2, 3, 13
_DL_CODES = {0: "int", 1: "uint", 2: "float", 4: "bfloat", 6: "bool"}
# (code, bits) of each element type mpt steps take.
_DL_TYPES = {"f64": (2, 64), "f32": (2, 32), "f16": (2, 16),
             "bf16": (4, 16), "i64": (0, 64), "i32": (0, 32), "i8": (0, 8),
             "i1": (6, 8)}
# Host data of a DLPack producer numpy cannot read itself (bf16 as its
# bits, like aot._NP_TYPES).
_DL_NUMPY = {(2, 64): np.float64, (2, 32): np.float32, (2, 16): np.float16,
             (4, 16): np.uint16, (0, 64): np.int64, (0, 32): np.int32,
             (0, 16): np.int16, (0, 8): np.int8, (1, 64): np.uint64,
             (1, 32): np.uint32, (1, 16): np.uint16, (1, 8): np.uint8,
             (6, 8): np.bool_}


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice),
                ("ndim", ctypes.c_int32), ("dtype", _DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


_DL_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", _DL_DELETER)]


# The capsule API with prototypes of our own (ctypes.pythonapi's function
# objects are shared with every other user of ctypes in the process).
def _pyapi(name, restype, *argtypes):
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


_capsule_pointer = _pyapi("PyCapsule_GetPointer", ctypes.c_void_p,
                          ctypes.py_object, ctypes.c_char_p)
_capsule_set_name = _pyapi("PyCapsule_SetName", ctypes.c_int,
                           ctypes.py_object, ctypes.c_void_p)
_capsule_new = _pyapi("PyCapsule_New", ctypes.py_object, ctypes.c_void_p,
                      ctypes.c_void_p, ctypes.c_void_p)
# On the capsule being destroyed (no new reference may be taken).
_capsule_valid_raw = _pyapi("PyCapsule_IsValid", ctypes.c_int,
                            ctypes.c_void_p, ctypes.c_char_p)
_capsule_pointer_raw = _pyapi("PyCapsule_GetPointer", ctypes.c_void_p,
                              ctypes.c_void_p, ctypes.c_char_p)
# Capsule names must outlive the capsules.
_NAME_DLTENSOR = ctypes.create_string_buffer(b"dltensor")
_NAME_USED = ctypes.create_string_buffer(b"used_dltensor")


def _dl_name(dtype):
    name = "%s%d" % (_DL_CODES.get(dtype.code, "code%d" % dtype.code),
                     dtype.bits)
    if name == "bool8":
        name = "bool"
    return name if dtype.lanes == 1 else "%sx%d" % (name, dtype.lanes)


def _take_dlpack(capsule):
    """The DLManagedTensor of a fresh "dltensor" capsule, which becomes
    ours: renamed "used_dltensor" (its producer's capsule destructor then
    leaves it alone), to be given back with _give_back_dlpack."""
    addr = _capsule_pointer(capsule, b"dltensor")
    _capsule_set_name(capsule, ctypes.addressof(_NAME_USED))
    return _DLManagedTensor.from_address(addr), addr


def _give_back_dlpack(managed, addr):
    if managed.deleter:
        managed.deleter(addr)


def _dl_layout(dl):
    """(shape, strides in elements or None for row-major) of a DLTensor."""
    n = dl.ndim
    shape = tuple(dl.shape[k] for k in range(n))
    strides = tuple(dl.strides[k] for k in range(n)) if dl.strides else None
    return shape, strides


def _dlpack_to_numpy(obj):
    """A copy of the host data of a DLPack producer (bf16 as its bits)."""
    managed, addr = _take_dlpack(obj.__dlpack__())
    try:
        dl = managed.dl_tensor
        key = (dl.dtype.code, dl.dtype.bits)
        if dl.dtype.lanes != 1 or key not in _DL_NUMPY:
            raise TypeError("DLPack dtype %s has no numpy equivalent"
                            % _dl_name(dl.dtype))
        dtype = np.dtype(_DL_NUMPY[key])
        shape, strides = _dl_layout(dl)
        if strides is None:
            strides = np.empty(shape, dtype).strides
            strides = [s // dtype.itemsize for s in strides]
        return _copy_strided(_read_host, (dl.data or 0) + dl.byte_offset,
                             shape, strides, dtype)
    finally:
        _give_back_dlpack(managed, addr)


# DLManagedTensors handed out by DeviceArray.__dlpack__, by address: the
# struct, its shape and strides, and the buffer it holds.
_EXPORTS = {}


def _release_export(addr):
    """The deleter of our DLManagedTensors (called by the consumer, or by
    the capsule's destructor when nobody consumed it)."""
    if sys.is_finalizing():
        return  # the process is going: nothing left to give back
    entry = _EXPORTS.pop(addr, None)
    if entry is not None and entry[3] is not None:
        entry[3].release()


def _destroy_capsule(capsule):
    if sys.is_finalizing():
        return
    if _capsule_valid_raw(capsule, b"dltensor"):
        _release_export(_capsule_pointer_raw(capsule, b"dltensor"))


_EXPORT_DELETER = _DL_DELETER(_release_export)
_CAPSULE_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(
    _destroy_capsule)


# ---------------------------------------------------------------- results

class DeviceArray:
    """A result of `Library.call(..., results="device")`: a buffer in device
    memory, not copied. `shape`, `dtype` (numpy's; bf16 as uint16 bits,
    like the numpy path) and `elem` (the MLIR element type) describe it;
    `__cuda_array_interface__` (v3; not for bf16, which no consumer reads
    from it) and `__dlpack__` hand it to torch and others without a copy
    (`torch.from_dlpack(r)`, `torch.as_tensor(r, device="cuda")`), and
    `numpy()` copies it to the host.

    The buffer is freed once nothing holds it: not this array (`free()`, or
    garbage collection), not another result sharing the allocation, not a
    tensor made from it; the free is ordered after the work then queued on
    the legacy default stream (PyTorch's default stream). A result that is
    an argument's device buffer holds that argument instead and never
    frees it."""

    __slots__ = ("_owner", "_freed", "_cai_out", "_rt", "elem", "dtype",
                 "shape", "_strides", "ptr", "device", "__weakref__")

    def __init__(self, runtime, elem, shape, strides, ptr, device, owner,
                 retain=True):
        self._owner, self._freed, self._cai_out = None, True, False
        self._rt = runtime
        self.elem = elem
        self.dtype = _np_dtype(elem)
        self.shape = tuple(shape)
        self._strides = tuple(strides)  # in elements
        self.ptr = ptr
        self.device = device
        if owner is not None and retain:
            owner.retain()
        self._owner, self._freed = owner, False

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def contiguous(self):
        return _row_major(self.shape, self._strides)

    def _alive(self):
        if self._freed:
            raise ValueError("this DeviceArray was freed")

    def free(self):
        """Gives up this array's hold on its buffer, which is freed when
        nothing else holds it; using the array afterwards raises. Once its
        __cuda_array_interface__ was read, the hold is kept until the array
        is collected: that protocol's consumers (torch.as_tensor) keep the
        array alive, not the buffer."""
        self._freed = True
        if not self._cai_out:
            self._let_go()

    def _let_go(self):
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.release()

    def __del__(self):
        if not sys.is_finalizing():
            self._let_go()

    def numpy(self):
        """A host copy (bf16 as uint16 bits)."""
        self._alive()
        if self.contiguous:
            out = np.empty(self.shape, self.dtype)
            self._rt.to_host(self.ptr, out.nbytes, out)
            return out
        return _copy_strided(self._rt.to_host, self.ptr, self.shape,
                             self._strides, self.dtype)

    @property
    def __cuda_array_interface__(self):
        if self.elem == "bf16":
            raise AttributeError("a bf16 DeviceArray has no "
                                 "__cuda_array_interface__ (no typestr for "
                                 "bf16 that consumers read): use DLPack")
        self._alive()
        self._cai_out = True
        itemsize = self.dtype.itemsize
        strides = None if self.contiguous else tuple(
            s * itemsize for s in self._strides)
        # The step synchronised its stream before returning: stream None.
        return {"shape": self.shape, "typestr": self.dtype.str,
                "data": (self.ptr if self.size else 0, False),
                "strides": strides, "version": 3, "stream": None}

    def __dlpack_device__(self):
        return (_KDL_CUDA, self.device)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None,
                   copy=None):
        """A "dltensor" capsule of the buffer, which it holds until the
        consumer calls the deleter. No stream work is needed: the step
        synchronised its stream before returning."""
        self._alive()
        if dl_device is not None and tuple(dl_device) != \
                self.__dlpack_device__():
            raise BufferError("a DeviceArray stays on CUDA device %d"
                              % self.device)
        if copy:
            raise BufferError("a DeviceArray is exported without a copy")
        m = _DLManagedTensor()
        n = len(self.shape)
        shape = (ctypes.c_int64 * max(n, 1))(*self.shape)
        strides = (ctypes.c_int64 * max(n, 1))(*self._strides)
        dl = m.dl_tensor
        dl.data = self.ptr or None
        dl.byte_offset = 0
        dl.device.device_type, dl.device.device_id = _KDL_CUDA, self.device
        dl.ndim = n
        dl.dtype.code, dl.dtype.bits = _DL_TYPES[self.elem]
        dl.dtype.lanes = 1
        dl.shape = ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64))
        dl.strides = ctypes.cast(strides, ctypes.POINTER(ctypes.c_int64))
        m.deleter = _EXPORT_DELETER
        addr = ctypes.addressof(m)
        if self._owner is not None:
            self._owner.retain()
        _EXPORTS[addr] = (m, shape, strides, self._owner)
        try:
            return _capsule_new(addr, ctypes.addressof(_NAME_DLTENSOR),
                                ctypes.cast(_CAPSULE_DESTRUCTOR,
                                            ctypes.c_void_p))
        except BaseException:
            _release_export(addr)
            raise

    def __repr__(self):
        state = "freed" if self._freed else "%#x" % self.ptr
        return "DeviceArray(%s, shape=%s, device %d, %s)" % (
            self.elem, self.shape, self.device, state)


# ---------------------------------------------------------------- library

class Library:
    """A compiled GPU step: call its public functions with numpy arrays or
    device buffers."""

    # Device buffers must be aligned to this: the step's kernels may load
    # 16 bytes at once (its own buffers are aligned to 256).
    ALIGNMENT = 16

    def __init__(self, lib, mlir_text, runtime):
        self.lib = lib
        self.text = mlir_text
        self.rt = runtime
        self._plans = {}
        # Whether calls whose arguments are all CUDA torch tensors that fit
        # a static signature take the fast path (_CallPlan.torch_pointers).
        # The general path accepts the same calls, slower; off, for
        # comparisons (bench/gpu/call_profile.py).
        self.fast_torch_calls = True

    def _plan(self, name):
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plans[name] = _CallPlan(
                *aot.parse_signature(self.text, name))
        return plan

    def _signature(self, name):
        plan = self._plan(name)
        return plan.arg_types, plan.res_types

    def _check_array(self, name, i, a, t):
        want = np.dtype(aot._NP_TYPES[t.elem])
        arr = a if isinstance(a, np.ndarray) else self._host_array(
            name, i, a, t)
        if arr.dtype != want:
            raise TypeError("@%s %s: dtype %s, expected %s (%s)" % (
                name, _describe(i, t), arr.dtype, want, t.elem))
        if arr.ndim != t.rank or any(s is not None and s != d
                                     for s, d in zip(t.shape, arr.shape)):
            raise ValueError("@%s %s: shape %s does not fit" % (
                name, _describe(i, t), tuple(arr.shape)))
        return np.require(arr, requirements="C")  # keeps 0-d arrays 0-d

    def _host_array(self, name, i, a, t):
        """Host data as numpy: np.asarray, except for DLPack producers in
        host memory (e.g. a torch CPU tensor of bf16), read by DLPack."""
        kind = None
        if hasattr(a, "__dlpack__") and hasattr(a, "__dlpack_device__"):
            kind = a.__dlpack_device__()[0]
        if kind not in (_KDL_CPU, _KDL_CUDA_HOST):
            return np.asarray(a)
        try:
            return _dlpack_to_numpy(a)
        except Exception as e:
            raise TypeError("@%s %s: cannot read its host data by DLPack: "
                            "%s" % (name, _describe(i, t), e)) from e

    def call(self, name, *arrays, results="numpy"):
        """Calls @name and returns its results: numpy arrays (copied back,
        device buffers freed) or, with results="device", DeviceArrays.

        An argument is a numpy array or other host data (copied to the
        device for the call), or a device buffer, used without a copy: an
        object with `__cuda_array_interface__`, or else a DLPack producer
        on CUDA (`__dlpack__`, `__dlpack_device__`). Device buffers must be
        C-contiguous, 16-byte aligned and on the runtime's device; work
        that produced them is waited for first (the stream that
        `__cuda_array_interface__` names, the legacy default stream when it
        names none, and for DLPack the legacy default stream, which the
        producer orders after its own work)."""
        if results not in ("numpy", "device"):
            raise ValueError("results must be 'numpy' or 'device', not %r"
                             % (results,))
        plan = self._plan(name)
        arg_types, res_types = plan.arg_types, plan.res_types
        if len(arrays) != len(arg_types):
            raise TypeError("@%s takes %d arguments, got %d" % (
                name, len(arg_types), len(arrays)))
        if any(t.shape is None for t in res_types):
            raise ValueError("scalar results are not supported; return "
                             "tensors")
        buf, c_args = plan.arguments()
        ptrs = (plan.torch_pointers(arrays, lambda: self.rt.device())
                if self.fast_torch_calls else None)
        if ptrs is not None:
            # Every tensor argument is a CUDA torch tensor of the static
            # type it is declared with: only the data pointers change.
            buf[plan.pointer_words] = ptrs
            buf[plan.pointer_words + 1] = ptrs
            for i in plan.scalar_args:
                c_args[i] = aot._CTYPES[arg_types[i].elem](arrays[i])
            # PyTorch's work is on the legacy default stream (as in
            # _from_torch).
            self.rt.sync_stream(_LEGACY_STREAM)
            descs = plan.invoke(self.lib, name, c_args)
            self.rt.check("running @%s" % name)
            if results == "device":
                tensors = [arrays[i] for i in plan.tensor_args]
                return self._fast_device_results(descs, res_types,
                                                 dict(zip(ptrs, tensors)))
            outs = [self._result(d, t) for d, t in zip(descs, res_types)]
            self._free_results(descs, ptrs)
            return outs
        return self._general_call(name, plan, arrays, results, buf, c_args)

    def _general_call(self, name, plan, arrays, results, buf, c_args):
        """Library.call for any mix of host data and device buffers."""
        arg_types, res_types = plan.arg_types, plan.res_types
        device, held = [], []
        call = {"device": None, "streams": set()}
        try:
            for i, (a, t) in enumerate(zip(arrays, arg_types)):
                if t.shape is None:
                    c_args[i] = aot._CTYPES[t.elem](a)
                    continue
                buf_arg = None
                if not isinstance(a, (np.ndarray, np.generic)):
                    buf_arg = self._device_buffer(name, i, a, t, call)
                if buf_arg is None:
                    arr = self._check_array(name, i, a, t)
                    ptr = self.rt.to_device(arr)
                    device.append(ptr)
                    shape = arr.shape
                    strides = [s // max(arr.itemsize, 1) for s in arr.strides]
                else:
                    shape, hold = buf_arg
                    held.append(hold)
                    ptr, strides = hold.ptr, None
                plan.describe(buf, i, ptr, shape, strides)
            for stream in sorted(call["streams"]):
                self.rt.sync_stream(stream)
            descs = plan.invoke(self.lib, name, c_args)
            self.rt.check("running @%s" % name)
            if results == "device":
                owners = {}
                for hold in held:
                    if hold.ptr:
                        owners.setdefault(hold.ptr, hold)
                return self._device_results(descs, res_types, device,
                                            owners.get,
                                            self._runtime_device(call))
            outs = [self._result(d, t) for d, t in zip(descs, res_types)]
            self._free_results(descs, device + [h.ptr for h in held])
            return outs
        finally:
            for ptr in device:
                if ptr:
                    self.rt.free(ptr)
            for hold in held:
                hold.release()

    # -- device-buffer arguments

    def _runtime_device(self, call):
        if call["device"] is None:
            call["device"] = self.rt.device()
        return call["device"]

    def _check_ordinal(self, name, i, t, ordinal, call):
        want = self._runtime_device(call)
        if ordinal != want:
            raise ValueError(
                "@%s %s: on CUDA device %d, but the step runs on device "
                "%d (the runtime's default device)" % (
                    name, _describe(i, t), ordinal, want))

    def _device_buffer(self, name, i, a, t, call):
        """(shape, _Buffer) of an argument in device memory, or None when
        it is host data (copied like a numpy array)."""
        if type(a) is _torch_tensor_class() and a.is_cuda:
            return self._from_torch(name, i, a, t, call)
        cai_error = None
        try:
            cai = a.__cuda_array_interface__
        except AttributeError:
            cai = None
        except Exception as e:  # torch: requires_grad, some dtypes
            cai, cai_error = None, e
        kind = ordinal = None
        if hasattr(a, "__dlpack_device__"):
            try:
                kind, ordinal = a.__dlpack_device__()
            except Exception as e:
                raise TypeError("@%s %s: __dlpack_device__ failed: %s" % (
                    name, _describe(i, t), e)) from e
        if kind in (_KDL_CUDA, _KDL_CUDA_MANAGED):
            self._check_ordinal(name, i, t, ordinal, call)
        if cai is not None:
            return self._from_cai(name, i, a, t, cai, call)
        if kind in (_KDL_CUDA, _KDL_CUDA_MANAGED) and hasattr(a,
                                                              "__dlpack__"):
            return self._from_dlpack(name, i, a, t, call)
        if cai_error is not None:
            raise TypeError("@%s %s: cannot read its "
                            "__cuda_array_interface__: %s" % (
                                name, _describe(i, t), cai_error)) \
                from cai_error
        if kind not in (None, _KDL_CPU, _KDL_CUDA_HOST):
            raise TypeError("@%s %s: DLPack device type %d is neither CUDA "
                            "nor host memory" % (name, _describe(i, t), kind))
        return None

    def _check_device_array(self, name, i, t, dtype_ok, dtype_text, shape,
                            strides, unit, ptr):
        """Dtype, shape and layout of a device buffer (strides None for
        row-major, else in elements (unit None) or bytes (unit: the item
        size))."""
        if not dtype_ok:
            raise TypeError("@%s %s: dtype %s, expected %s (%s)" % (
                name, _describe(i, t), dtype_text,
                "bfloat16" if t.elem == "bf16" else
                np.dtype(aot._NP_TYPES[t.elem]), t.elem))
        if len(shape) != t.rank or any(s is not None and s != d
                                       for s, d in zip(t.shape, shape)):
            raise ValueError("@%s %s: shape %s does not fit" % (
                name, _describe(i, t), tuple(shape)))
        if 0 in shape:
            return  # nothing is read
        if strides is not None and not _row_major(shape, strides, unit or 1):
            raise ValueError(
                "@%s %s: the device buffer is not contiguous (strides %s in "
                "%s); the step reads row-major buffers: pass a contiguous "
                "one (torch: .contiguous())" % (
                    name, _describe(i, t), tuple(strides),
                    "elements" if unit is None else "bytes"))
        if not ptr or ptr % self.ALIGNMENT:
            raise ValueError(
                "@%s %s: the device buffer at %#x is not %d-byte aligned "
                "(the step's kernels may load %d bytes at once): pass a "
                "buffer of its own (torch: .clone())" % (
                    name, _describe(i, t), ptr or 0, self.ALIGNMENT,
                    self.ALIGNMENT))

    def _from_cai(self, name, i, a, t, cai, call):
        try:
            shape = tuple(int(s) for s in cai["shape"])
            typestr = cai["typestr"]
            ptr = int(cai["data"][0] or 0)
            byte_strides = cai.get("strides")
            dtype = _typestr_dtype(typestr)
        except (KeyError, TypeError, IndexError, ValueError) as e:
            raise TypeError("@%s %s: malformed __cuda_array_interface__ "
                            "(%s: %s)" % (name, _describe(i, t),
                                          type(e).__name__, e)) from e
        if cai.get("mask") is not None:
            raise TypeError("@%s %s: masked device arrays are not supported"
                            % (name, _describe(i, t)))
        want = np.dtype(aot._NP_TYPES[t.elem])
        ok = dtype == want or (t.elem == "bf16" and dtype == _V2)
        if byte_strides is not None:
            byte_strides = tuple(int(s) for s in byte_strides)
        self._check_device_array(name, i, t, ok, typestr, shape,
                                 byte_strides, max(dtype.itemsize, 1), ptr)
        # No "stream" entry (version 2, e.g. PyTorch): the producer's work
        # is taken to be on the legacy default stream.
        stream = cai.get("stream", _LEGACY_STREAM)
        if stream is not None:
            if stream == 0:
                raise ValueError("@%s %s: __cuda_array_interface__ stream 0 "
                                 "is ambiguous and disallowed by the "
                                 "protocol" % (name, _describe(i, t)))
            call["streams"].add(int(stream))
        return shape, _Buffer(ptr, keep=a)

    def _from_torch(self, name, i, a, t, call):
        """A CUDA torch.Tensor read through its own accessors (data_ptr,
        shape, dtype, strides): what its __cuda_array_interface__ says
        (version 2: the producer's work is on the legacy default stream),
        without building that dictionary, which costs tens of microseconds
        an argument (a transformer step takes 150). bf16, which the
        interface refuses, is taken the same way."""
        if a.requires_grad:
            raise TypeError("@%s %s: the tensor requires grad; the step "
                            "reads it outside autograd: pass .detach()" % (
                                name, _describe(i, t)))
        self._check_ordinal(name, i, t, a.get_device(), call)
        elem = _torch_elements().get(a.dtype)
        shape = tuple(a.shape)
        ptr = a.data_ptr()
        self._check_device_array(
            name, i, t, elem == t.elem, str(a.dtype).replace("torch.", ""),
            shape, None if a.is_contiguous() else a.stride(), None, ptr)
        call["streams"].add(_LEGACY_STREAM)
        return shape, _Buffer(ptr, keep=a)

    def _from_dlpack(self, name, i, a, t, call):
        try:
            try:
                capsule = a.__dlpack__(stream=_LEGACY_STREAM)
            except TypeError:  # a producer that takes no stream
                capsule = a.__dlpack__()
            managed, addr = _take_dlpack(capsule)
        except Exception as e:
            raise TypeError("@%s %s: cannot take its device buffer by "
                            "DLPack: %s" % (name, _describe(i, t), e)) from e
        hold = _Buffer(None, functools.partial(_give_back_dlpack, managed,
                                               addr))
        try:
            dl = managed.dl_tensor
            shape, strides = _dl_layout(dl)
            ptr = (dl.data or 0) + dl.byte_offset
            key = (dl.dtype.code, dl.dtype.bits, dl.dtype.lanes)
            ok = key[:2] == _DL_TYPES[t.elem] and key[2] == 1
            # bf16 may also come as its bits (uint16), as on the host.
            ok |= t.elem == "bf16" and key == (1, 16, 1)
            self._check_device_array(name, i, t, ok, _dl_name(dl.dtype),
                                     shape, strides, None, ptr)
        except BaseException:
            hold.release()
            raise
        hold.ptr = ptr
        call["streams"].add(_LEGACY_STREAM)
        return shape, hold

    # -- calling and results

    def _result(self, desc, t):
        """Copies a result (a _CallPlan.invoke tuple) to the host (results
        are contiguous: identity layouts at the function boundary)."""
        _, aligned, offset, shape, strides = desc
        dtype = np.dtype(aot._NP_TYPES[t.elem])
        out = np.empty(shape, dtype)
        expect = 1
        for i in reversed(range(t.rank)):
            if shape[i] > 1 and strides[i] != expect:
                raise RuntimeError("result of type %s is not contiguous"
                                   % t.text)
            expect *= shape[i]
        base = (aligned or 0) + offset * dtype.itemsize
        self.rt.to_host(base, out.nbytes, out)
        return out

    def _free_results(self, descs, inputs):
        """Frees each result buffer once (results may share one, or be an
        argument's buffer, which the caller frees)."""
        done = set(inputs) | {0, None}
        for desc in descs:
            if desc[0] not in done:
                done.add(desc[0])
                self.rt.free(desc[0])

    def _fast_device_results(self, descs, res_types, inputs):
        """_device_results for the fast path: `inputs` maps the data
        pointer of each torch argument to the tensor, which a result in its
        buffer holds."""
        made = []

        def input_owner(ptr):
            tensor = inputs.get(ptr)
            if tensor is None:
                return None
            hold = _Buffer(ptr, keep=tensor)
            made.append(hold)
            return hold
        try:
            return self._device_results(descs, res_types, [], input_owner,
                                        self.rt.device())
        finally:
            for hold in made:
                hold.release()

    def _device_results(self, descs, res_types, device, input_owner,
                        ordinal):
        """DeviceArrays of the results. One _Buffer per allocation: results
        sharing one share it; a result in an argument's buffer holds that
        argument's _Buffer (`input_owner(ptr)`, None for other buffers);
        copies made for this call are taken over from `device`, to be
        freed with their last holder."""
        owners, made = {}, []
        for ptr in device:
            if ptr:
                buf = _Buffer(ptr, functools.partial(self.rt.free, ptr))
                owners[ptr] = buf
                made.append(buf)
        del device[:]
        # A buffer the step allocated starts with one reference for each
        # result in it (no other holder exists yet).
        uses, fresh, legacy = {}, set(), (self.rt, _LEGACY_STREAM)
        for desc in descs:
            uses[desc[0]] = uses.get(desc[0], 0) + 1
        outs = []
        try:
            for (alloc, aligned, offset, shape, strides), t in zip(
                    descs, res_types):
                owner, retain = None, True
                if alloc:
                    owner = owners.get(alloc)
                    if owner is None:
                        owner = input_owner(alloc)
                        if owner is None:
                            # Freed after the work then queued on the
                            # legacy default stream (PyTorch's), which may
                            # still read it.
                            owner = _Buffer(alloc, refs=uses[alloc],
                                            free_on=legacy)
                            fresh.add(alloc)
                        owners[alloc] = owner
                    retain = alloc not in fresh
                ptr = (aligned or 0) + offset * _np_dtype(t.elem).itemsize
                outs.append(DeviceArray(self.rt, t.elem, shape, strides, ptr,
                                        ordinal, owner, retain))
        except BaseException:
            for out in outs:
                out.free()
            raise
        finally:
            for buf in made:  # the results hold what they use
                buf.release()
        return outs


class _CallPlan:
    """How Library.call passes one function's arguments and reads its
    results, worked out once. Each tensor argument's memref descriptor has
    a fixed place in an int64 buffer (one per thread, with the C arguments
    pointing into it), so a call whose arguments keep their static shapes
    writes only their data pointers; the results come back in one struct,
    read as int64 words."""

    def __init__(self, arg_types, res_types):
        self.arg_types, self.res_types = arg_types, res_types
        self.slots, words = [], 0  # word offset of each descriptor
        for t in arg_types:
            self.slots.append(None if t.shape is None else words)
            if t.shape is not None:
                words += 3 + 2 * t.rank
        self.words = words
        self.scalar_args = [i for i, t in enumerate(arg_types)
                            if t.shape is None]
        self.tensor_args = [i for i, t in enumerate(arg_types)
                            if t.shape is not None]
        self.pointer_words = np.array(
            [w for w in self.slots if w is not None], dtype=np.intp)
        self.static = all(t.shape is None or None not in t.shape
                          for t in arg_types)
        classes = tuple(aot._descriptor_class(t.rank) for t in res_types)
        self.results_class = aot._results_class(classes) if classes else None
        self.result_words = []
        words = 0
        for t in res_types:
            self.result_words.append((words, t.rank))
            words += 3 + 2 * t.rank
        self._torch_specs = None
        self._local = threading.local()

    def arguments(self):
        """This thread's descriptor buffer and a fresh list of C arguments
        (descriptor pointers into it; scalars are the caller's to fill).
        Static sizes and row-major strides are written once; a call on
        another thread uses its own buffer."""
        mine = getattr(self._local, "buffer", None)
        if mine is None:
            buf = np.zeros(max(self.words, 1), dtype=np.int64)
            for i, t in enumerate(self.arg_types):
                if t.shape is not None and self.static:
                    self.describe(buf, i, 0, t.shape, None)
            base = buf.ctypes.data
            pointers = [None if w is None else ctypes.c_void_p(base + 8 * w)
                        for w in self.slots]
            mine = self._local.buffer = (buf, pointers)
        return mine[0], list(mine[1])

    def describe(self, buf, i, ptr, shape, strides):
        """Writes argument i's descriptor (strides in elements; None: row
        major)."""
        w, rank = self.slots[i], len(shape)
        if strides is None:
            strides, stride = [0] * rank, 1
            for d in reversed(range(rank)):
                strides[d] = stride
                stride *= shape[d]
        buf[w:w + 3 + 2 * rank] = [ptr or 0, ptr or 0, 0, *shape, *strides]

    def torch_pointers(self, arrays, device):
        """The data pointers of the tensor arguments when each is a CUDA
        torch tensor on the device numbered `device()` (asked once there is
        one) that fits its static type as it is
        (dtype, shape, contiguous, 16-byte aligned, not requiring grad),
        else None: the general path then reads them (and explains what
        does not fit)."""
        tensor_class = _torch_tensor_class()
        if tensor_class is None or not self.static:
            return None
        specs = self._torch_specs
        if specs is None:
            dtypes = {e: d for d, e in _torch_elements().items()}
            specs = self._torch_specs = [
                None if t.shape is None else (dtypes.get(t.elem),
                                              tuple(t.shape))
                for t in self.arg_types]
        ptrs, ordinal = [], None
        for a, spec in zip(arrays, specs):
            if spec is None:
                continue
            if (type(a) is not tensor_class or a.dtype is not spec[0] or
                    a.shape != spec[1] or not a.is_cuda or a.requires_grad
                    or not a.is_contiguous()):
                return None
            if ordinal is None:
                ordinal = device()
            ptr = a.data_ptr()
            if not ptr or ptr % Library.ALIGNMENT or a.get_device() != ordinal:
                return None
            ptrs.append(ptr)
        return ptrs

    def invoke(self, lib, name, c_args):
        """Calls _mlir_ciface_<name>; the results as (allocated, aligned,
        offset, sizes, strides) tuples."""
        fn = getattr(lib, "_mlir_ciface_" + name)
        fn.restype = None
        if self.results_class is None:
            fn(*c_args)
            return []
        out = self.results_class()
        fn(ctypes.byref(out), *c_args)
        w = np.frombuffer(out, dtype=np.int64).tolist()
        return [(w[o], w[o + 1], w[o + 2], w[o + 3:o + 3 + r],
                 w[o + 3 + r:o + 3 + 2 * r]) for o, r in self.result_words]


_V2 = np.dtype("V2")


@functools.lru_cache(maxsize=None)
def _np_dtype(elem):
    return np.dtype(aot._NP_TYPES[elem])


def _torch_tensor_class():
    """torch.Tensor if torch is imported (never imported here), else None."""
    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None) if torch is not None else None


@functools.lru_cache(maxsize=None)
def _torch_elements():
    """torch dtype -> mpt element type name."""
    import torch
    return {torch.float64: "f64", torch.float32: "f32",
            torch.float16: "f16", torch.bfloat16: "bf16",
            torch.int64: "i64", torch.int32: "i32", torch.int8: "i8",
            torch.bool: "i1"}


@functools.lru_cache(maxsize=None)
def _typestr_dtype(typestr):
    return np.dtype(typestr)
