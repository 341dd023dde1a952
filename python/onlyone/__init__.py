"""onlyone: at most one process at a time runs a piece of Python.

    import onlyone

    @onlyone.one("nightly-backup")       # skipped (with a warning naming the
    def backup():                        # holder) while another process runs it
        ...

    with onlyone.Lock("reindex", wait=30) as lock:   # wait up to 30 s
        write_to_storage(fence=lock.fence)           # larger than every earlier holder's

    onlyone.status("reindex")            # holders and waiters, as `onlyone status --json`

A lock is a directory (default: /run/onlyone for root, else
$XDG_RUNTIME_DIR/onlyone, else ~/.cache/onlyone; `dir=` to choose). A holder
killed with kill -9 never blocks the next one: its entry is proven dead and
removed, with no stale lock file to delete by hand. The lock is onlyone's C
library (libonlyone.so, shipped inside this package) through ctypes, so
Python processes, the `onlyone` command and C or C++ programs all exclude
each other on the same lock.

Exceptions (all OnlyoneError): Busy (held by others; .holder says by whom),
Timeout (a Busy after waiting `wait` seconds), UnsafeDirectory (the lock
directory is a symlink, writable by others or owned by someone else), Lost
(our entry was removed while we held the lock).
"""

import ctypes
import functools
import json
import logging
import math
import os
import signal
import threading

__all__ = [
    "Busy",
    "Lock",
    "Lost",
    "OnlyoneError",
    "Timeout",
    "UnsafeDirectory",
    "one",
    "status",
]

try:
    from importlib.metadata import PackageNotFoundError, version as _version

    try:
        __version__ = _version("onlyone")
    except PackageNotFoundError:  # run from a source tree, not installed
        __version__ = "0+source"
except ImportError:  # Python < 3.8
    __version__ = "0+unknown"

_log = logging.getLogger("onlyone")

# Return codes of onlyone.h.
_OK = 0
_BUSY = 1
_CANCELLED = 2
_INVALID_ARGUMENT = 3
_UNSAFE_DIRECTORY = 4
_LOST = 8
_WAIT_FOREVER_MS = -1
# How often a waiting acquire lets Python see Ctrl-C (the C call itself
# sleeps until the lock is free; this only bounds the reaction to signals).
_SIGNAL_CHECK_S = 0.1


class OnlyoneError(Exception):
    """A lock operation failed. .code is the C API's code, .name the lock's."""

    def __init__(self, message, code=None, name=None):
        super().__init__(message)
        self.code = code
        self.name = name


class Busy(OnlyoneError):
    """Held by `slots` others. .holder: the holding entry (pid, host, command,
    since, ...) as status() reports it, or None if it left in the meantime."""

    def __init__(self, message, code=_BUSY, name=None, holder=None):
        super().__init__(message, code, name)
        self.holder = holder


class Timeout(Busy):
    """Still held by others when the `wait` limit passed."""


class UnsafeDirectory(OnlyoneError):
    """The lock directory failed a safety check (the message says which)."""


class Lost(OnlyoneError):
    """Our entry was removed while we held the lock: stop writing."""


def _library_path():
    # ONLYONE_LIB: a libonlyone.so of your own (development, other builds).
    return os.environ.get("ONLYONE_LIB") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "libonlyone.so")


def _declare(lib):
    handle = ctypes.c_void_p
    signatures = {
        "onlyone_open": (handle, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]),
        "onlyone_try_acquire": (ctypes.c_int, [handle]),
        "onlyone_acquire": (ctypes.c_int, [handle, ctypes.c_int64]),
        "onlyone_release": (ctypes.c_int, [handle]),
        "onlyone_cancel": (None, [handle]),
        "onlyone_fence": (ctypes.c_uint64, [handle]),
        "onlyone_error_message": (ctypes.c_char_p, [handle]),
        "onlyone_close": (None, [handle]),
        # The Python binding's addition (status_json.cc): freed by _free.
        "onlyone_py_status_json": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]),
        "onlyone_py_free": (None, [ctypes.c_void_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


_lib = None
_lib_guard = threading.Lock()


def _library():
    global _lib
    with _lib_guard:
        if _lib is None:
            _lib = _declare(ctypes.CDLL(_library_path()))
        return _lib


def _encode(text):
    return None if text is None else os.fsencode(text)


def status(name=None, dir=None):
    """Holders and waiters of lock `name` (None: of every lock in `dir`).

    Returns {"dir": DIR, "locks": [{"name": ..., "entries": [{"state",
    "pid", "host", "command", "since_ms", "since", "ticket", "slots",
    "holding", "alive"}, ...]}]}: the same document as `onlyone status
    --json`. Entries of dead owners are listed (state "dead"), not removed.
    """
    lib = _library()
    raw = lib.onlyone_py_status_json(_encode(name), _encode(dir))
    if not raw:
        raise MemoryError("onlyone: out of memory")
    try:
        document = json.loads(ctypes.string_at(raw).decode("utf-8"))
    finally:
        lib.onlyone_py_free(raw)
    if "error" in document:
        _raise(document["error"], document["message"], name, dir)
    return document


def _raise(code, message, name, dir=None, waited=False):
    if code == _BUSY:
        raise (Timeout if waited else Busy)(message, code, name, _holder_of(name, dir))
    if code == _UNSAFE_DIRECTORY:
        raise UnsafeDirectory(message, code, name)
    if code == _LOST:
        raise Lost(message, code, name)
    if code == _INVALID_ARGUMENT:
        raise ValueError(message)
    raise OnlyoneError(message, code, name)


def _holder_of(name, dir=None):
    try:
        document = status(name, dir)
    except OnlyoneError:
        return None
    for lock in document["locks"]:
        for entry in lock["entries"]:
            if entry["holding"]:
                return entry
    return None


def _wait_ms(wait):
    """wait: None or 0 tries once; seconds; True or math.inf waits forever."""
    if wait is None or wait is False or wait == 0:
        return None
    if wait is True or wait == math.inf:
        return _WAIT_FOREVER_MS
    if not isinstance(wait, (int, float)) or wait < 0 or math.isnan(wait):
        raise ValueError("onlyone: wait=%r: give seconds (30, 0.5), True or math.inf "
                         "to wait forever, or None to try once" % (wait,))
    return int(wait * 1000)


def _hold_back_sigint():
    """Blocks SIGINT in this thread, if it is the main thread of a platform
    that can; returns what _let_through needs to restore the mask."""
    if (not hasattr(signal, "pthread_sigmask")
            or threading.current_thread() is not threading.main_thread()):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _let_through(held_back):
    if held_back is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held_back)


def _wait_uninterrupted(event):
    """Waits for `event`, letting further Ctrl-Cs go: after a cancel the
    wait ends within moments, and the handle must outlive it."""
    while not event.is_set():
        try:
            event.wait(_SIGNAL_CHECK_S)
        except KeyboardInterrupt:
            pass


class Lock:
    """The lock NAME, as a context manager or with acquire()/release().

    wait: None (default) tries once and raises Busy if held; a number of
    seconds waits up to that long (Timeout after); True or math.inf waits
    forever. Waiters are served in arrival order; Ctrl-C cancels a wait.
    dir: the lock directory (default: see the module's help). slots: at
    most this many holders at once.
    """

    _handle = None  # the C handle while acquiring or holding

    def __init__(self, name, wait=None, dir=None, slots=1):
        self.name = name
        self.dir = dir
        self.slots = slots
        self._wait_ms = _wait_ms(wait)
        self.fence = 0

    @property
    def held(self):
        return self._handle is not None and self.fence != 0

    def acquire(self):
        if self.held:
            raise RuntimeError("onlyone: lock %r is already held by this Lock" % self.name)
        lib = _library()
        if self._handle is None:
            self._handle = lib.onlyone_open(_encode(self.name), _encode(self.dir), self.slots)
            if not self._handle:
                raise MemoryError("onlyone: out of memory")
        if self._wait_ms is None:
            code = lib.onlyone_try_acquire(self._handle)
        else:
            code = self._acquire_interruptibly(lib)
        if code != _OK:
            message = lib.onlyone_error_message(self._handle).decode("utf-8", "replace")
            self._close()
            _raise(code, message, self.name, self.dir, waited=self._wait_ms is not None)
        self.fence = lib.onlyone_fence(self._handle)
        return self

    def _acquire_interruptibly(self, lib):
        # The C call blocks until the lock is ours; run it in a thread so
        # that Ctrl-C (raised only in the main thread, between bytecodes)
        # can cancel it with onlyone_cancel, which is safe from any thread.
        # The handle is freed only once `done` says the call returned: not
        # Thread.join(), which a KeyboardInterrupt can leave believing a
        # running thread finished, and the handle would then be freed under
        # it (a use after free that crashed one run in four).
        outcome = []
        done = threading.Event()
        handle, wait_ms = self._handle, self._wait_ms

        def wait():
            try:
                outcome.append(lib.onlyone_acquire(handle, wait_ms))
            finally:
                done.set()

        # The trap: a Ctrl-C that lands while start() returns, after the
        # thread has begun to queue but before the try below, would leave the
        # thread waiting (its entry in the lock) while the program unwinds and
        # exits without a cancel. So SIGINT is held back while the thread
        # starts (it inherits the mask, which keeps it for the main thread)
        # and let through only inside the try.
        thread = threading.Thread(target=wait, name="onlyone-wait", daemon=True)
        held_back = _hold_back_sigint()
        try:
            thread.start()
        except BaseException:
            _let_through(held_back)
            raise
        try:
            _let_through(held_back)
            while not done.wait(_SIGNAL_CHECK_S):
                pass
        except BaseException:
            lib.onlyone_cancel(handle)
            _wait_uninterrupted(done)
            self._close()  # releases it too if it was acquired meanwhile
            raise
        return outcome[0]

    def release(self):
        if self._handle is None:
            return
        lib = _library()
        code = lib.onlyone_release(self._handle)
        message = lib.onlyone_error_message(self._handle).decode("utf-8", "replace")
        self._close()
        if code != _OK:
            _raise(code, message, self.name, self.dir)

    def _close(self):
        if self._handle is not None:
            _library().onlyone_close(self._handle)
            self._handle = None
        self.fence = 0

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False

    def __del__(self):
        self._close()

    def __repr__(self):
        return "onlyone.Lock(%r, held=%s, fence=%d)" % (self.name, self.held, self.fence)


def one(name=None, wait=None, dir=None, slots=1, skip=True):
    """Decorator: run the function only while holding lock `name`.

    name defaults to the function's module and qualified name. While the
    lock is held elsewhere the call is skipped like highlander's: a warning
    names the holder and the call returns None (skip=False: Busy is raised
    instead). wait, dir and slots are Lock's.
    """

    def decorate(function):
        lock_name = name or "%s.%s" % (function.__module__, function.__qualname__)

        @functools.wraps(function)
        def guarded(*args, **kwargs):
            try:
                lock = Lock(lock_name, wait=wait, dir=dir, slots=slots).acquire()
            except Busy as busy:
                if not skip:
                    raise
                _log.warning("%s", busy)
                return None
            try:
                return function(*args, **kwargs)
            finally:
                lock.release()

        return guarded

    return decorate
