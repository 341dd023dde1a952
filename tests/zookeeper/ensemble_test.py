"""A 3-node ZooKeeper ensemble on loopback: holders and waiters survive the
loss of one member, a follower and then the leader, and exclusion holds
throughout."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zk_fixture as zk  # noqa: E402

ENSEMBLE = None
WORK = None
# Session 15 s, grace 1 s: up to 12 s without the ensemble is ridden out,
# room for a leader election on a busy machine.
SESSION = ["--zk-session-timeout", "15s", "--grace", "1s"]


def setUpModule():
    global ENSEMBLE, WORK
    ENSEMBLE = zk.Ensemble(3)
    WORK = zk.workdir()


def tearDownModule():
    for server in ENSEMBLE.servers:
        server.stop()


class MemberLoss(unittest.TestCase):
    def run_round(self, candidates):
        """A holder and three waiters on the whole ensemble; the holder's own
        server, one of `candidates()`, is killed -9 while the holder runs."""
        name = zk.unique_name("e")
        witness = os.path.join(WORK, name + ".witness")
        log = os.path.join(WORK, name + ".log")
        gate = os.path.join(WORK, name + ".gate")
        # Each critical section proves it is alone (O_EXCL witness). The
        # first one lasts until the gate opens, after the member is killed.
        section = ("set -C; : > '%s' || exit 99; echo $ONLYONE_FENCE >> '%s'; "
                   "while [ ! -e '%s' ]; do sleep 0.05; done; sleep 0.2; rm '%s'" % (witness, log, gate, witness))
        # The C client picks a server at random: start the holder again
        # until its session is on a server we mean to kill.
        victim = None
        for _ in range(20):
            holder = zk.start(["--zk", ENSEMBLE.connect] + SESSION + ["--wait", name, "--", "sh", "-c", section])
            self.assertTrue(zk.wait_for(lambda: os.path.exists(witness), 30),
                            "the holder runs\n" + ENSEMBLE.describe())
            victim = next((s for s in candidates() if s is not None and zk.sessions_on(s.client_port) > 0), None)
            if victim is not None:
                break
            holder.terminate()
            holder.wait(timeout=30)
            for path in (witness, log):
                if os.path.exists(path):
                    os.remove(path)
        self.assertIsNotNone(victim, "the holder's session never landed on a candidate")
        procs = [holder]
        for _ in range(3):
            procs.append(zk.start(["--zk", ENSEMBLE.connect] + SESSION + ["--wait", name, "--", "sh", "-c", section]))
        # Every waiter connected before the kill, so that the round tests
        # fail-over and not a first connect (slow under a sanitizer).
        self.assertTrue(zk.wait_for(lambda: ENSEMBLE.sessions() >= 4, 30),
                        "4 sessions before the kill\n" + ENSEMBLE.describe())
        time.sleep(0.5)
        # The holder and any waiters there must fail over to another member.
        self.victim_sessions = zk.sessions_on(victim.client_port)
        killed_at = time.monotonic()
        victim.kill()
        # Quorum again (2 of 3): a leader among the survivors.
        self.assertTrue(zk.wait_for(lambda: ENSEMBLE.leader() is not None, 60),
                        "a new leader\n" + ENSEMBLE.describe())
        recovered_s = time.monotonic() - killed_at
        time.sleep(1.0)
        self.assertEqual([p.poll() for p in procs], [None] * 4,
                         "holder and waiters survive\n" + ENSEMBLE.describe())
        open(gate, "w").close()
        codes = [p.wait(timeout=120) for p in procs]
        self.assertEqual(codes, [0] * 4, "99: two holders at once; 69: a lock lost; 68: no server "
                         "answered\n" + ENSEMBLE.describe())
        with open(log) as f:
            fences = [int(line) for line in f]
        self.assertEqual(len(fences), 4)
        self.assertEqual(fences, sorted(set(fences)))
        # Bring the member back for the next round.
        victim.start()
        victim.wait_serving()
        return recovered_s

    def test_1_holders_and_waiters_survive_the_loss_of_a_follower(self):
        took = self.run_round(ENSEMBLE.followers)
        print("follower killed (%d of our 4 sessions on it): ensemble serving again after %.1f s"
              % (self.victim_sessions, took))

    def test_2_holders_and_waiters_survive_the_loss_of_the_leader(self):
        took = self.run_round(lambda: [ENSEMBLE.leader()])
        print("leader killed (%d of our 4 sessions on it): new leader elected after %.1f s"
              % (self.victim_sessions, took))


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(argv=[sys.argv[0], "-v"])
