"""Proves the onlyone package's @one across real processes: a second process
is refused (and told who holds the lock) while the first holds it, and runs
once it is free. Runs against the package's sources (PYTHONPATH, ONLYONE_LIB:
see one_test.sh); //python:wheel_test checks the installed wheel."""

import os
import subprocess
import sys
import tempfile
import time
import unittest

from onlyone import Busy, Lock, one

# A child that holds the lock inside a decorated function until told to stop.
HOLDER = r"""
import os, sys, time
from onlyone import one

@one("nightly", dir=sys.argv[1])
def run():
    open(sys.argv[2], "w").close()          # "I am inside"
    while not os.path.exists(sys.argv[3]):  # until the test says stop
        time.sleep(0.01)
    return "ran"

print(run(), flush=True)
"""

BOUND_S = 20


def wait_for(path):
    deadline = time.monotonic() + BOUND_S
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + path)
        time.sleep(0.01)


class OneDecoratorTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.locks = os.path.join(self.scratch, "locks")

    def start_holder(self):
        inside = os.path.join(self.scratch, "inside")
        stop = os.path.join(self.scratch, "stop")
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, self.locks, inside, stop],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(inside)
        return holder, stop

    def test_a_second_process_is_refused_while_the_first_holds_the_lock(self):
        holder, stop = self.start_holder()
        try:
            calls = []

            @one("nightly", dir=self.locks)
            def run():
                calls.append(1)
                return "ran"

            with self.assertLogs("onlyone", level="WARNING") as logs:
                self.assertIsNone(run())
            self.assertEqual(calls, [])
            self.assertIn('lock "nightly" is held by pid %d' % holder.pid, logs.output[0])
        finally:
            open(stop, "w").close()
            out, err = holder.communicate(timeout=BOUND_S)
        self.assertEqual(holder.returncode, 0, err)
        self.assertEqual(out.strip(), "ran")
        self.assertEqual(run(), "ran", "free again once the holder is done")

    def test_a_holder_killed_with_sigkill_does_not_block_the_next_run(self):
        holder, _ = self.start_holder()
        holder.kill()
        holder.communicate(timeout=BOUND_S)

        @one("nightly", dir=self.locks)
        def run():
            return "ran"

        self.assertEqual(run(), "ran")

    def test_the_context_manager_raises_busy_and_hands_out_growing_fences(self):
        with Lock("job", dir=self.locks) as first:
            with self.assertRaises(Busy):
                Lock("job", dir=self.locks).acquire()
            fence = first.fence
        with Lock("job", dir=self.locks, wait=1) as second:
            self.assertGreater(second.fence, fence)


if __name__ == "__main__":
    unittest.main()
