"""A stand-in for mpt.cuda.Runtime whose "device" memory is host memory
(malloc/memmove), for tests of mpt.cuda's calling convention without a GPU:
a step compiled for the CPU has the same C entry point."""
import ctypes


class HostRuntime:
    """mpt.cuda.Runtime's interface on malloc/memmove; counts buffers."""

    def __init__(self):
        self.libc = ctypes.CDLL(None)
        self.libc.malloc.restype = ctypes.c_void_p
        self.libc.malloc.argtypes = [ctypes.c_size_t]
        self.libc.free.argtypes = [ctypes.c_void_p]
        self.live = set()

    def check(self, what):
        pass

    def to_device(self, array):
        ptr = self.libc.malloc(max(array.nbytes, 1))
        ctypes.memmove(ptr, array.ctypes.data, array.nbytes)
        self.live.add(ptr)
        return ptr

    def to_host(self, ptr, nbytes, out):
        ctypes.memmove(out.ctypes.data, ptr, nbytes)

    def free(self, ptr):
        # Results are malloc'ed by the step itself: not in `live`.
        self.live.discard(ptr)
        self.libc.free(ptr)
