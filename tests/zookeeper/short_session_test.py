"""onlyone --zk against a server that grants at most a 10 s session (Debian's
server with tickTime=500 and its default maxSessionTimeout of 20 ticks), below
the 30 s onlyone asks for by default. With neither --grace nor
--zk-session-timeout given, the grace is fitted to the granted session (and
-v says so); values the user chose that cannot fit still exit 78; and the
fitted grace is the one the command is stopped with, so a holder cut off from
the ensemble is dead before its session can expire."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zk_fixture as zk  # noqa: E402

SERVER = None
WORK = None


def setUpModule():
    global SERVER, WORK
    SERVER = zk.standalone(max_session_timeout_ms=None)
    WORK = zk.workdir()


def tearDownModule():
    SERVER.stop()


def lock_name():
    return zk.unique_name("short")


def start_time(stat):
    """The start time field of a /proc/PID/stat line (the 22nd; fields count
    from after the parenthesised command name, which may hold spaces)."""
    return stat[stat.rindex(")") + 2:].split()[19]


class ShortSession(unittest.TestCase):
    def test_default_options_fit_the_grace_to_the_granted_session_and_say_so(self):
        result = zk.run(["-v", "--zk", SERVER.connect, lock_name(), "--", "echo", "ran"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "ran\n")
        self.assertIn("the ZooKeeper server granted a 10s session (asked for 30s): grace lowered "
                      "from 10s to 4s", result.stderr)
        self.assertIn("a disconnection is ridden out for 4s", result.stderr)
        quiet = zk.run(["--zk", SERVER.connect, lock_name(), "--", "true"])
        self.assertEqual((quiet.returncode, quiet.stderr), (0, ""), "said only with -v")

    def test_the_users_own_values_that_cannot_fit_exit_78(self):
        for own in (["--grace", "10s"], ["--zk-session-timeout", "30s"],
                    ["--zk-session-timeout", "10s", "--grace", "8s"]):
            result = zk.run(["--zk", SERVER.connect] + own + [lock_name(), "--", "true"])
            self.assertEqual(result.returncode, 78, own)
            self.assertIn("raise --zk-session-timeout or lower --grace", result.stderr, own)

    def test_the_users_own_values_that_fit_are_used_as_given(self):
        result = zk.run(["-v", "--zk", SERVER.connect, "--grace", "5", lock_name(), "--", "true"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("grace lowered", result.stderr)

    def test_a_holder_cut_off_is_killed_with_the_fitted_grace_before_its_session_expires(self):
        # The holder's command ignores SIGTERM, so only the SIGKILL after the
        # grace ends it: with the fitted 4 s (4 s tolerance + 4 s grace < 10 s)
        # it is dead before the server expires the session and lets the
        # waiter in; with the default 10 s it would still run beside it.
        proxy = zk.Proxy(SERVER.client_port)
        name = lock_name()
        pid_file = os.path.join(WORK, name + ".pid")
        holder = zk.start(["--zk", proxy.connect, name, "--", "sh", "-c",
                           "trap '' TERM; echo $$ > '%s'; while :; do sleep 0.05; done" % pid_file])
        self.assertTrue(zk.wait_for(lambda: os.path.exists(pid_file) and zk.read_text(pid_file).strip(), 20))
        command_pid = int(zk.read_text(pid_file))
        command_start = start_time(zk.read_text("/proc/%d/stat" % command_pid))
        seen = os.path.join(WORK, name + ".seen")
        waiter = zk.start(["--zk", SERVER.connect, "--wait=60", name, "--", "sh", "-c",
                           "cat /proc/%d/stat > '%s' 2>/dev/null; true" % (command_pid, seen)])
        self.assertTrue(zk.wait_for(lambda: len(zk.entries_of(SERVER.connect, name)) == 2, 20))
        cut_at = time.time()
        proxy.pause()
        self.assertEqual(holder.wait(timeout=40), 69, "onlyone reports the lost lock")
        stopped_after = time.time() - cut_at
        self.assertEqual(waiter.wait(timeout=40), 0)
        acquired_after = time.time() - cut_at
        stat = zk.read_text(seen) if os.path.exists(seen) else ""
        print("cut off: holder exited after %.2f s, waiter done after %.2f s" % (stopped_after, acquired_after))
        still_ran = stat != "" and start_time(stat) == command_start and stat[stat.rindex(")") + 2] not in "ZX"
        self.assertFalse(still_ran, "the holder's command still ran when the waiter acquired: " + stat)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    unittest.main(argv=[sys.argv[0], "-v"])
