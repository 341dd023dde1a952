"""onlyone --zk against one real standalone ZooKeeper server, shared by all
cases of this file: the command's contract, exclusion, slots, FIFO order,
kill -9 of a holder, status, errors, and interop with kazoo's Lock."""
import os
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zk_fixture as zk  # noqa: E402

SERVER = None
WORK = None
# Short sessions so that kill -9 cases finish quickly: a 5 s session with a
# 1 s grace leaves 2 s of tolerance (5 - 1 - 2) for a slow heartbeat.
FAST = ["--zk-session-timeout", "5s", "--grace", "1s"]


def setUpModule():
    global SERVER, WORK
    SERVER = zk.standalone()
    WORK = zk.workdir()


def tearDownModule():
    SERVER.stop()


def lock_name():
    return zk.unique_name("t")


def status_json(name):
    return zk.status_json(SERVER.connect, name)


def entries_of(name):
    return zk.entries_of(SERVER.connect, name)


def kazoo_client():
    from kazoo.client import KazooClient
    client = KazooClient(hosts=SERVER.connect, timeout=10)
    client.start(timeout=30)
    return client


class Contract(unittest.TestCase):
    def test_a_free_lock_runs_the_command_with_name_and_fence(self):
        name = lock_name()
        result = zk.run(["--zk", SERVER.connect, name, "--", "sh", "-c",
                         'echo "$ONLYONE_NAME $ONLYONE_FENCE"; exit 3'])
        self.assertEqual(result.returncode, 3, result.stderr)
        got_name, fence = result.stdout.split()
        self.assertEqual(got_name, name)
        self.assertGreater(int(fence), 0)

    def test_a_held_lock_makes_another_contender_exit_75_naming_the_holder(self):
        name = lock_name()
        holder = zk.start(["--zk", SERVER.connect, name, "--", "sleep", "30"])
        try:
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
            result = zk.run(["--zk", SERVER.connect, name, "--", "true"])
            self.assertEqual(result.returncode, 75)
            self.assertIn("'%s' is held by pid %d" % (name, holder.pid), result.stderr)
            self.assertIn("sleep 30", result.stderr)
            # Trying once leaves nothing behind: only the holder's node.
            self.assertEqual(len(entries_of(name)), 1)
            self.assertEqual(zk.run(["--zk", SERVER.connect, "-E", "0", "-q", name, "--", "true"]).returncode, 0)
        finally:
            holder.terminate()
            holder.wait()

    def test_wait_with_a_limit_gives_up_with_75(self):
        name = lock_name()
        holder = zk.start(["--zk", SERVER.connect, name, "--", "sleep", "30"])
        try:
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
            started = time.monotonic()
            result = zk.run(["--zk", SERVER.connect, "--wait=1s", name, "--", "true"])
            self.assertEqual(result.returncode, 75)
            self.assertIn("gave up after waiting 1s", result.stderr)
            self.assertLess(time.monotonic() - started, 10)
            self.assertEqual(len(entries_of(name)), 1, "the waiter's node is removed when it gives up")
        finally:
            holder.terminate()
            holder.wait()

    def test_a_signal_while_waiting_cancels_the_wait_and_removes_the_waiters_node(self):
        name = lock_name()
        holder = zk.start(["--zk", SERVER.connect, name, "--", "sleep", "30"])
        try:
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
            waiter = zk.start(["--zk", SERVER.connect, "--wait", name, "--", "true"])
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 2, 20))
            waiter.send_signal(signal.SIGINT)
            self.assertEqual(waiter.wait(timeout=20), 128 + signal.SIGINT)
            self.assertEqual([e["pid"] for e in entries_of(name)], [holder.pid])
        finally:
            holder.terminate()
            holder.wait()

    def test_fences_increase_from_holder_to_holder(self):
        name = lock_name()
        fences = [int(zk.run(["--zk", SERVER.connect, name, "--", "sh", "-c", "echo $ONLYONE_FENCE"]).stdout)
                  for _ in range(3)]
        self.assertEqual(fences, sorted(set(fences)))

    def test_many_concurrent_contenders_never_overlap(self):
        name = lock_name()
        witness = os.path.join(WORK, name + ".witness")
        log = os.path.join(WORK, name + ".log")
        contenders = 16
        script = ("set -C; : > '%s' || exit 99; echo $ONLYONE_FENCE >> '%s'; sleep 0.05; rm '%s'"
                  % (witness, log, witness))
        procs = [zk.start(["--zk", SERVER.connect, "--wait", name, "--", "sh", "-c", script])
                 for _ in range(contenders)]
        codes = [p.wait(timeout=120) for p in procs]
        self.assertEqual(codes, [0] * contenders, "99: two holders at once")
        fences = [int(line) for line in zk.read_text(log).split()]
        self.assertEqual(len(fences), contenders)
        self.assertEqual(fences, sorted(set(fences)), "fences strictly increase in holding order")

    def test_slots_let_at_most_that_many_run_at_once(self):
        name = lock_name()
        inside = os.path.join(WORK, name + ".inside")
        os.mkdir(inside)
        script = ('mkdir "%s/$$"; n=$(ls "%s" | wc -l); sleep 0.2; rmdir "%s/$$"; echo $n; [ $n -le 3 ] || exit 98'
                  % (inside, inside, inside))
        procs = [zk.start(["--zk", SERVER.connect, "--wait", "--slots", "3", name, "--", "sh", "-c", script],
                          stdout=subprocess.PIPE, text=True) for _ in range(10)]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        self.assertEqual([p.returncode for p in procs], [0] * 10, "98: more than three inside")
        self.assertIn("3", [o.strip() for o in outputs], "three did run at once at some point")

    def test_waiters_acquire_in_arrival_order(self):
        name = lock_name()
        order = os.path.join(WORK, name + ".order")
        gate = os.path.join(WORK, name + ".gate")
        holder = zk.start(["--zk", SERVER.connect, name, "--", "sh", "-c",
                           "while [ ! -e '%s' ]; do sleep 0.05; done" % gate])
        self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
        waiters = []
        for i in range(5):
            waiters.append(zk.start(["--zk", SERVER.connect, "--wait", name, "--", "sh", "-c",
                                     "echo %d >> '%s'" % (i, order)]))
            # The next one arrives only once this one is queued.
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == i + 2, 20))
        open(gate, "w").close()
        self.assertEqual(holder.wait(timeout=30), 0)
        self.assertEqual([w.wait(timeout=60) for w in waiters], [0] * 5)
        with open(order) as f:
            self.assertEqual(f.read().split(), ["0", "1", "2", "3", "4"])

    def test_a_holder_killed_with_kill_9_lets_the_next_waiter_run(self):
        name = lock_name()
        child_pid_file = os.path.join(WORK, name + ".child")
        ran = os.path.join(WORK, name + ".ran")
        holder = zk.start(["--zk", SERVER.connect] + FAST + [name, "--", "sh", "-c",
                          "echo $$ > '%s'; exec sleep 60" % child_pid_file])
        self.assertTrue(zk.wait_for(lambda: os.path.exists(child_pid_file) and zk.read_text(child_pid_file).strip(), 20))
        child = int(zk.read_text(child_pid_file))
        waiter = zk.start(["--zk", SERVER.connect, "--wait", name, "--", "touch", ran])
        self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 2, 20))
        killed_at = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        # The watchdog kills the command at once; the node goes with the session.
        self.assertTrue(zk.wait_for(lambda: zk.gone(child), 5))
        self.assertEqual(waiter.wait(timeout=40), 0)
        took = time.monotonic() - killed_at
        self.assertTrue(os.path.exists(ran))
        print("kill -9 of the holder: next waiter ran %.1f s later (session timeout 5 s)" % took)
        self.assertGreater(took, 3.0, "not before the holder's session could expire")

    def test_sigterm_is_forwarded_to_the_command(self):
        name = lock_name()
        got = os.path.join(WORK, name + ".got")
        proc = zk.start(["--zk", SERVER.connect, name, "--", "sh", "-c",
                         "trap 'echo term > \"%s\"; exit 7' TERM; while :; do sleep 0.05; done" % got])
        self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=20), 7)
        self.assertEqual(zk.read_text(got).strip(), "term")
        self.assertTrue(zk.wait_for(lambda: entries_of(name) == [], 10), "released after the command")


class Status(unittest.TestCase):
    def test_status_json_lists_holders_and_waiters_with_their_data(self):
        name = lock_name()
        holder = zk.start(["--zk", SERVER.connect, name, "--", "sleep", "30"])
        waiter = None
        try:
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
            waiter = zk.start(["--zk", SERVER.connect, "--wait", name, "--", "echo", "waiter"])
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 2, 20))
            status = status_json(name)
            self.assertEqual(status["zk"], SERVER.connect)
            self.assertEqual(status["root"], "/onlyone/locks")
            first, second = status["locks"][0]["entries"]
            self.assertEqual((first["state"], first["pid"], first["command"]), ("holding", holder.pid, "sleep 30"))
            self.assertEqual((second["state"], second["pid"], second["command"]), ("waiting", waiter.pid, "echo waiter"))
            for entry in (first, second):
                self.assertEqual(entry["host"], os.uname().nodename)
                self.assertGreater(entry["since_ms"], 0)
                self.assertEqual(entry["owner"], "onlyone")
                self.assertRegex(entry["node"], r"^[0-9a-f]{32}__lock__\d{10}$")
            self.assertLess(first["czxid"], second["czxid"])
            text = zk.run(["--zk", SERVER.connect, "status"]).stdout
            self.assertIn(name, text)
        finally:
            holder.terminate()
            holder.wait()
            if waiter:
                waiter.wait(timeout=30)


class ConnectStrings(unittest.TestCase):
    def test_a_malformed_connect_string_is_a_usage_error(self):
        for bad in ("127.0.0.1:99999", "a,,b", "host:2181/chroot/", ""):
            result = zk.run(["--zk", bad, "x", "--", "true"])
            self.assertEqual(result.returncode, 64, (bad, result.stderr))
            self.assertIn("onlyone:", result.stderr)

    def test_an_unreachable_ensemble_exits_68(self):
        port = zk.free_port()  # nothing listens there
        started = time.monotonic()
        result = zk.run(["--zk", "127.0.0.1:%d" % port, "--zk-session-timeout", "3s", "--grace", "0s",
                         "x", "--", "true"])
        self.assertEqual(result.returncode, 68, result.stderr)
        self.assertIn("no ZooKeeper server at '127.0.0.1:%d' answered" % port, result.stderr)
        self.assertLess(time.monotonic() - started, 15)

    def test_an_unresolvable_host_exits_68_naming_the_host_and_no_stray_errno(self):
        # .invalid never resolves (RFC 2606). zookeeper_init's errno here is an
        # NSS leftover (ENOENT) that read as "No such file or directory".
        result = zk.run(["--zk", "no-such-host.invalid:2181", "x", "--", "true"])
        self.assertEqual(result.returncode, 68, result.stderr)
        self.assertIn("'no-such-host.invalid:2181' could be resolved; check the host names", result.stderr)
        self.assertNotIn("No such file", result.stderr)

    def test_a_missing_chroot_exits_78_and_an_existing_one_is_used(self):
        result = zk.run(["--zk", SERVER.connect + "/no-such-chroot", "x", "--", "true"])
        self.assertEqual(result.returncode, 78, result.stderr)
        self.assertIn("chroot '/no-such-chroot'", result.stderr)
        client = kazoo_client()
        try:
            client.ensure_path("/apps/one")
            self.assertEqual(zk.run(["--zk", SERVER.connect + "/apps/one", "chrooted", "--", "true"]).returncode, 0)
            self.assertTrue(client.exists("/apps/one/onlyone/locks/chrooted"))
        finally:
            client.stop()
            client.close()

    def test_a_session_timeout_too_short_for_the_grace_period_exits_78(self):
        result = zk.run(["--zk", SERVER.connect, "--zk-session-timeout", "2s", "x", "--", "true"])
        self.assertEqual(result.returncode, 78, result.stderr)
        self.assertIn("raise --zk-session-timeout or lower --grace", result.stderr)

    def test_the_environment_and_zk_path_choose_the_ensemble_and_node(self):
        for variable in ("ONLYONE_ZK", "ZKHOSTS"):
            result = zk.run(["envlock", "--", "sh", "-c", "echo $ONLYONE_FENCE"], env={variable: SERVER.connect})
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertGreater(int(result.stdout), 0)
        path = "/custom/" + lock_name()
        self.assertEqual(zk.run(["--zk", SERVER.connect, "--zk-path", path, "--", "true"]).returncode, 0)
        client = kazoo_client()
        try:
            self.assertTrue(client.exists(path))
        finally:
            client.stop()
            client.close()


class KazooInterop(unittest.TestCase):
    def test_a_kazoo_lock_holder_makes_onlyone_exit_75(self):
        name = lock_name()
        client = kazoo_client()
        try:
            lock = client.Lock("/onlyone/locks/" + name, "kazoo-holder")
            self.assertTrue(lock.acquire(timeout=10))
            result = zk.run(["--zk", SERVER.connect, name, "--", "true"])
            self.assertEqual(result.returncode, 75, result.stderr)
            self.assertIn("kazoo", result.stderr)
            lock.release()
            self.assertEqual(zk.run(["--zk", SERVER.connect, name, "--", "true"]).returncode, 0)
        finally:
            client.stop()
            client.close()

    def test_an_onlyone_holder_excludes_a_kazoo_lock_until_it_is_done(self):
        name = lock_name()
        gate = os.path.join(WORK, name + ".gate")
        holder = zk.start(["--zk", SERVER.connect, name, "--", "sh", "-c",
                           "while [ ! -e '%s' ]; do sleep 0.05; done" % gate])
        client = kazoo_client()
        try:
            self.assertTrue(zk.wait_for(lambda: len(entries_of(name)) == 1, 20))
            lock = client.Lock("/onlyone/locks/" + name)
            self.assertFalse(lock.acquire(blocking=False))
            self.assertEqual(len(lock.contenders()), 1)
            acquired = []
            waiter = threading.Thread(target=lambda: acquired.append(lock.acquire(timeout=30)))
            waiter.start()
            time.sleep(0.5)
            self.assertEqual(acquired, [], "kazoo waits behind onlyone")
            open(gate, "w").close()
            self.assertEqual(holder.wait(timeout=30), 0)
            waiter.join(timeout=40)
            self.assertEqual(acquired, [True])
            # And now onlyone waits behind kazoo.
            self.assertEqual(zk.run(["--zk", SERVER.connect, name, "--", "true"]).returncode, 75)
            lock.release()
        finally:
            holder.terminate()
            holder.wait()
            client.stop()
            client.close()

    def test_a_curator_style_node_counts_as_a_contender(self):
        name = lock_name()
        client = kazoo_client()
        try:
            path = "/onlyone/locks/" + name
            client.ensure_path(path)
            client.create(path + "/_c_%s-lock-" % uuid.uuid4(), b"10.0.0.9", ephemeral=True, sequence=True)
            result = zk.run(["--zk", SERVER.connect, name, "--", "true"])
            self.assertEqual(result.returncode, 75, result.stderr)
            self.assertIn("curator", result.stderr)
        finally:
            client.stop()  # its ephemeral node goes with the session
            client.close()
        self.assertEqual(zk.run(["--zk", SERVER.connect, name, "--", "true"]).returncode, 0)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    unittest.main(argv=[sys.argv[0], "-v"])
