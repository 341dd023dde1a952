"""@one(): run a function in at most one process at a time, like highlander.

    from one import one

    @one("nightly-backup")
    def run():
        ...

If another process holds the lock, the decorated function is not run: the
call logs who holds it (pid, command, since when) and returns None. A holder
killed with kill -9 does not block the next run: onlyone proves it dead and
takes over (no stale lock to delete by hand, unlike a pidfile).

This wraps the C API of libonlyone.so (platform/posix/onlyone.h) with
ctypes. Set ONLYONE_LIB to the library's path, or keep it next to this file.
"""

import ctypes
import functools
import logging
import os

__all__ = ["one", "Lock", "Busy", "OnlyoneError"]

_log = logging.getLogger("onlyone")

# Return codes of onlyone.h.
OK = 0
BUSY = 1
WAIT_FOREVER = -1


class OnlyoneError(Exception):
    """A failure other than "held by someone else"; .code is the C API code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Busy(OnlyoneError):
    """The lock is held by `slots` others (the message names the holder)."""


def _load_library():
    path = os.environ.get("ONLYONE_LIB") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "libonlyone.so")
    lib = ctypes.CDLL(path)
    lib.onlyone_open.restype = ctypes.c_void_p
    lib.onlyone_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
    for name in ("onlyone_try_acquire", "onlyone_release"):
        getattr(lib, name).restype = ctypes.c_int
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.onlyone_acquire.restype = ctypes.c_int
    lib.onlyone_acquire.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.onlyone_fence.restype = ctypes.c_uint64
    lib.onlyone_fence.argtypes = [ctypes.c_void_p]
    lib.onlyone_error_message.restype = ctypes.c_char_p
    lib.onlyone_error_message.argtypes = [ctypes.c_void_p]
    lib.onlyone_close.restype = None
    lib.onlyone_close.argtypes = [ctypes.c_void_p]
    return lib


_lib = None


def _library():
    global _lib
    if _lib is None:
        _lib = _load_library()
    return _lib


class Lock:
    """The lock NAME in DIR (None: the default directory), as a context manager.

    timeout_s: None tries once; a number waits up to that many seconds;
    float("inf") waits forever. Raises Busy when not acquired.
    """

    def __init__(self, name, dir=None, slots=1, timeout_s=None):
        self._lib = _library()
        self._handle = self._lib.onlyone_open(
            name.encode(), dir.encode() if dir is not None else None, slots)
        if not self._handle:
            raise OnlyoneError(-1, "onlyone: out of memory")
        self._timeout_s = timeout_s
        self.fence = 0

    def _check(self, code):
        if code == OK:
            return
        message = self._lib.onlyone_error_message(self._handle).decode(errors="replace")
        raise (Busy if code == BUSY else OnlyoneError)(code, message)

    def acquire(self):
        if self._timeout_s is None:
            code = self._lib.onlyone_try_acquire(self._handle)
        elif self._timeout_s == float("inf"):
            code = self._lib.onlyone_acquire(self._handle, WAIT_FOREVER)
        else:
            code = self._lib.onlyone_acquire(self._handle, int(self._timeout_s * 1000))
        self._check(code)
        self.fence = self._lib.onlyone_fence(self._handle)
        return self

    def release(self):
        self._check(self._lib.onlyone_release(self._handle))

    def close(self):
        if self._handle:
            self._lib.onlyone_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        try:
            self.release()
        finally:
            self.close()
        return False

    def __del__(self):
        self.close()


def one(name=None, dir=None, slots=1, timeout_s=None):
    """Decorator: run the function only while holding lock `name`.

    name defaults to the function's module and qualified name. When the lock
    is busy the function is skipped: a warning names the holder and the call
    returns None (highlander's behaviour). Other failures raise OnlyoneError.
    """

    def decorate(function):
        lock_name = name or "%s.%s" % (function.__module__, function.__qualname__)

        @functools.wraps(function)
        def guarded(*args, **kwargs):
            try:
                lock = Lock(lock_name, dir=dir, slots=slots, timeout_s=timeout_s).acquire()
            except Busy as busy:
                _log.warning("%s", busy)
                return None
            try:
                return function(*args, **kwargs)
            finally:
                lock.release()
                lock.close()

        return guarded

    return decorate
