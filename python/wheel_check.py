"""Runs inside a venv where the onlyone wheel is installed: the package's
promises, with real processes (see wheel_test.sh)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import onlyone

BOUND_S = 30

# A second process: holds LOCK in DIR inside a decorated function, says
# "holding FENCE" on stdout, and returns once a line arrives on stdin.
HOLDER = r"""
import sys
import onlyone

@onlyone.one(sys.argv[1], dir=sys.argv[2])
def hold():
    print("holding", flush=True)
    sys.stdin.readline()
    return "done"

print(hold(), flush=True)
"""


# A waiter that Ctrl-C interrupts: says "waiting", waits forever, then says
# "interrupted" and exits normally (a crash gives a negative exit status).
INTERRUPTED_WAITER = r"""
import sys
import onlyone

print("waiting", flush=True)
try:
    onlyone.Lock("interrupted", wait=True, dir=sys.argv[1]).acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""

# Ctrl-C at the worst moment: while Thread.start() returns, once the waiting
# thread has queued (its entry is in the lock) but before the main thread is
# inside the try that cancels. Thread.start is wrapped to deliver SIGINT
# exactly then; the wait must still be cancelled and leave no entry.
INTERRUPTED_WHILE_STARTING = r"""
import os, signal, sys, threading, time
import onlyone

locks = sys.argv[1]
start = threading.Thread.start

def start_then_interrupt(thread):
    start(thread)
    deadline = time.monotonic() + 30
    while len(onlyone.status("interrupted", dir=locks)["locks"][0]["entries"]) < 2:
        assert time.monotonic() < deadline, "the waiter never queued"
        time.sleep(0.002)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)  # a KeyboardInterrupt not held back is raised here

threading.Thread.start = start_then_interrupt
try:
    onlyone.Lock("interrupted", wait=True, dir=locks).acquire()
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


class Holder:
    """Another Python process holding a lock until release()."""

    def __init__(self, name, locks):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, name, locks], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if line.strip() != "holding":
            raise AssertionError("holder did not start: %r %s" % (line, self.process.stderr.read()))

    def release(self):
        out, err = self.process.communicate("stop\n", timeout=BOUND_S)
        assert self.process.returncode == 0, err
        return out.strip()


class InstalledPackage(unittest.TestCase):
    def setUp(self):
        self.locks = os.path.join(tempfile.mkdtemp(), "locks")

    def test_is_the_installed_copy_with_its_library_and_version(self):
        self.assertIn("site-packages", onlyone.__file__)
        self.assertEqual(onlyone.__version__, os.environ["ONLYONE_EXPECTED_VERSION"])
        self.assertTrue(os.path.exists(os.path.join(os.path.dirname(onlyone.__file__),
                                                    "libonlyone.so")))

    def test_decorator_runs_the_function_and_returns_its_value(self):
        @onlyone.one("job", dir=self.locks)
        def job(x):
            return x * 2

        self.assertEqual(job(21), 42)
        self.assertEqual(job(1), 2, "released after the first call")

    def test_context_manager_holds_with_a_growing_fence(self):
        with onlyone.Lock("ctx", wait=30, dir=self.locks) as first:
            self.assertTrue(first.held)
            first_fence = first.fence
        self.assertFalse(first.held)
        with onlyone.Lock("ctx", dir=self.locks) as second:
            self.assertGreater(second.fence, first_fence)

    def test_a_second_process_excludes_us_and_is_named(self):
        holder = Holder("shared", self.locks)
        try:
            with self.assertRaises(onlyone.Busy) as busy:
                onlyone.Lock("shared", dir=self.locks).acquire()
            self.assertIn("held by pid %d" % holder.process.pid, str(busy.exception))
            self.assertEqual(busy.exception.holder["pid"], holder.process.pid)
            self.assertNotIsInstance(busy.exception, onlyone.Timeout)

            calls = []

            @onlyone.one("shared", dir=self.locks)
            def job():
                calls.append(1)

            with self.assertLogs("onlyone", level="WARNING") as logs:
                self.assertIsNone(job())
            self.assertEqual(calls, [], "skipped while the other process holds")
            self.assertIn("pid %d" % holder.process.pid, logs.output[0])

            started = time.monotonic()
            with self.assertRaises(onlyone.Timeout):
                onlyone.Lock("shared", wait=0.3, dir=self.locks).acquire()
            self.assertGreaterEqual(time.monotonic() - started, 0.3)

            entries = onlyone.status("shared", dir=self.locks)["locks"][0]["entries"]
            self.assertEqual([(e["pid"], e["state"]) for e in entries],
                             [(holder.process.pid, "holding")])
        finally:
            self.assertEqual(holder.release(), "done")
        with onlyone.Lock("shared", wait=BOUND_S, dir=self.locks):
            pass

    def test_a_waiter_gets_the_lock_when_the_other_process_releases(self):
        holder = Holder("handoff", self.locks)
        waiter = subprocess.Popen(
            [sys.executable, "-c",
             "import onlyone, sys\n"
             "with onlyone.Lock('handoff', wait=%d, dir=sys.argv[1]) as l: print(l.fence)"
             % BOUND_S, self.locks], stdout=subprocess.PIPE, text=True)
        time.sleep(0.2)
        self.assertIsNone(waiter.poll(), "the waiter must wait while the lock is held")
        holder.release()
        out, _ = waiter.communicate(timeout=BOUND_S)
        self.assertEqual(waiter.returncode, 0)
        self.assertGreaterEqual(int(out), 2)

    def test_ctrl_c_cancels_a_wait_and_leaves_no_entry(self):
        # Twenty waiters, each interrupted at a different moment of its wait:
        # freeing the handle while the C call still ran crashed 1 in 4.
        holder = Holder("interrupted", self.locks)
        try:
            for attempt in range(20):
                waiter = subprocess.Popen(
                    [sys.executable, "-c", INTERRUPTED_WAITER, self.locks],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                self.assertEqual(waiter.stdout.readline().strip(), "waiting")
                deadline = time.monotonic() + BOUND_S
                while len(self.entries("interrupted")) < 2:  # the waiter has queued
                    self.assertLess(time.monotonic(), deadline, "the waiter never queued")
                    time.sleep(0.002)
                time.sleep(0.001 * (attempt % 10))
                waiter.send_signal(signal.SIGINT)
                out, err = waiter.communicate(timeout=BOUND_S)
                self.assertEqual((out.strip(), waiter.returncode), ("interrupted", 0),
                                 "attempt %d: %s" % (attempt, err))
                self.assertEqual([e["pid"] for e in self.entries("interrupted")],
                                 [holder.process.pid], "the cancelled waiter's entry is gone")
        finally:
            holder.release()

    def test_ctrl_c_while_the_wait_starts_cancels_it_and_leaves_no_entry(self):
        holder = Holder("interrupted", self.locks)
        try:
            waiter = subprocess.run(
                [sys.executable, "-c", INTERRUPTED_WHILE_STARTING, self.locks],
                capture_output=True, text=True, timeout=BOUND_S)
            self.assertEqual((waiter.stdout.strip(), waiter.returncode), ("interrupted", 0),
                             waiter.stderr)
            self.assertEqual([e["pid"] for e in self.entries("interrupted")],
                             [holder.process.pid], "the cancelled waiter's entry is gone")
        finally:
            holder.release()

    def entries(self, name):
        return onlyone.status(name, dir=self.locks)["locks"][0]["entries"]

    def test_an_unsafe_directory_is_refused_as_such(self):
        os.makedirs(self.locks)
        os.chmod(self.locks, 0o777)  # writable by everyone, not sticky
        with self.assertRaises(onlyone.UnsafeDirectory) as unsafe:
            onlyone.Lock("x", dir=self.locks).acquire()
        self.assertIn(self.locks, str(unsafe.exception))

    def test_status_lists_every_lock_of_a_directory(self):
        with onlyone.Lock("a", dir=self.locks), onlyone.Lock("b", dir=self.locks):
            document = onlyone.status(dir=self.locks)
        self.assertEqual(document["dir"], self.locks)
        self.assertEqual(sorted(lock["name"] for lock in document["locks"]), ["a", "b"])

    def test_a_bad_wait_says_what_to_write(self):
        with self.assertRaisesRegex(ValueError, "give seconds"):
            onlyone.Lock("x", wait="30s")


if __name__ == "__main__":
    unittest.main()
