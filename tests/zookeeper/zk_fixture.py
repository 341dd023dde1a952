"""Real ZooKeeper servers for the tests, on loopback, started and stopped here.

Each server gets free loopback ports chosen at start (so test targets can run
in parallel), a temporary data directory, admin.enableServer=false and every
four-letter word enabled. Servers are stopped at exit, also on failure
(atexit, and SIGTERM from Bazel's timeout turns into a normal exit).

Also: a pausable TCP proxy (to cut one client off the ensemble), and helpers
to run onlyone bounded in time.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

JAVA = shutil.which("java") or "/usr/bin/java"
ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar"  # its manifest's Class-Path names the rest
TICK_MS = 500
SERVER_START_S = 90  # Java on a busy 2-core machine: allow a slow start

_servers = []
_workdirs = []


def _cleanup():
    for server in list(_servers):
        server.stop()
    for path in _workdirs:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _die_with_parent():
    """In the server's child process before exec: SIGKILL when the test dies,
    even by SIGKILL (a Bazel timeout), so that no server outlives its test."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def workdir():
    path = tempfile.mkdtemp(prefix="onlyone-zk.", dir=os.environ.get("TEST_TMPDIR"))
    _workdirs.append(path)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port, word, timeout=2.0):
    """The server's answer to a four-letter word, or "" if it did not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def sessions_on(port):
    """How many client sessions are connected to this server (4lw cons)."""
    return sum(1 for line in four_letter(port, "cons").splitlines() if "sid=0x" in line)


def mode_of(port):
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return ""


class Server:
    """One ZooKeeper server (standalone, or a member of an ensemble)."""

    def __init__(self, base, server_id=0, peers=None, client_port=None,
                 max_session_timeout_ms=60000):
        """max_session_timeout_ms=None leaves the server's own default:
        20 ticks, 10 s with our tickTime."""
        self.server_id = server_id
        self.client_port = client_port or free_port()
        self.dir = os.path.join(base, "zk%d" % server_id)
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.config = os.path.join(self.dir, "zoo.cfg")
        lines = [
            "tickTime=%d" % TICK_MS,
            "dataDir=%s" % self.data,
            "clientPort=%d" % self.client_port,
            "clientPortAddress=127.0.0.1",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            "minSessionTimeout=%d" % (2 * TICK_MS),
            "initLimit=20",
            "syncLimit=10",
        ]
        if max_session_timeout_ms is not None:
            lines.append("maxSessionTimeout=%d" % max_session_timeout_ms)
        if peers:
            lines.append("standaloneEnabled=false")
            for peer_id, (quorum_port, election_port, _) in sorted(peers.items()):
                lines.append("server.%d=127.0.0.1:%d:%d" % (peer_id, quorum_port, election_port))
            with open(os.path.join(self.data, "myid"), "w") as f:
                f.write("%d\n" % server_id)
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.process = None

    def start(self):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        self.process = subprocess.Popen(
            [JAVA, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-Dzookeeper.admin.enableServer=false", "-cp", ZOOKEEPER_JAR,
             "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.config],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent)
        log.close()
        if self not in _servers:
            _servers.append(self)

    def serving(self):
        return mode_of(self.client_port) in ("standalone", "leader", "follower")

    def wait_serving(self, timeout=SERVER_START_S):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("ZooKeeper server %d exited: see %s/server.log" % (self.server_id, self.dir))
            if self.serving():
                return
            time.sleep(0.2)
        raise RuntimeError("ZooKeeper server %d did not serve within %ds" % (self.server_id, timeout))

    def kill(self):
        """kill -9, as a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def pause(self):
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGCONT)
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        if self in _servers:
            _servers.remove(self)

    @property
    def connect(self):
        return "127.0.0.1:%d" % self.client_port


def standalone(max_session_timeout_ms=60000):
    server = Server(workdir(), max_session_timeout_ms=max_session_timeout_ms)
    server.start()
    server.wait_serving()
    return server


class Ensemble:
    def __init__(self, size=3):
        base = workdir()
        peers = {i: (free_port(), free_port(), free_port()) for i in range(1, size + 1)}
        self.servers = [Server(base, i, peers, client_port=peers[i][2]) for i in peers]
        for server in self.servers:
            server.start()
        for server in self.servers:
            server.wait_serving()

    @property
    def connect(self):
        return ",".join(s.connect for s in self.servers)

    def leader(self):
        for server in self.servers:
            if server.process.poll() is None and mode_of(server.client_port) == "leader":
                return server
        return None

    def followers(self):
        return [s for s in self.servers if s.process.poll() is None and mode_of(s.client_port) == "follower"]

    def sessions(self):
        """Client sessions connected to the ensemble, over all live members."""
        return sum(sessions_on(s.client_port) for s in self.servers if s.process.poll() is None)

    def describe(self, log_lines=12):
        """Each member's state and the end of its log: what a failed round
        needs to tell a slow election from a client that never connected."""
        parts = []
        for s in self.servers:
            alive = s.process is not None and s.process.poll() is None
            head = "server %d (port %d): %s" % (
                s.server_id, s.client_port,
                ("mode %r, %d sessions" % (mode_of(s.client_port), sessions_on(s.client_port)))
                if alive else "not running")
            try:
                with open(os.path.join(s.dir, "server.log"), errors="replace") as f:
                    tail = f.readlines()[-log_lines:]
            except OSError:
                tail = []
            parts.append(head + "\n" + "".join("    " + line for line in tail))
        return "\n".join(parts)


class Proxy:
    """A TCP proxy to a server that can be paused: while paused, no byte
    passes either way and new connections hang, as in a network partition
    (nothing is closed, so neither side learns anything but silence)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def connect(self):
        return "127.0.0.1:%d" % self.port

    def pause(self):
        self.open.clear()

    def resume(self):
        self.open.set()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        self.open.wait()
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()  # the first pump to end shut both sockets: the other ends too
        client.close()
        upstream.close()

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self.open.wait()  # paused: hold the bytes, pass nothing
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def onlyone_binary():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ["ONLYONE"]
    return os.path.abspath(path)


def run(args, timeout=60, env=None, **kwargs):
    """Runs onlyone bounded in time; returns the CompletedProcess."""
    full_env = dict(os.environ)
    for name in ("ONLYONE_ZK", "ZKHOSTS"):
        full_env.pop(name, None)
    full_env.update(env or {})
    return subprocess.run([onlyone_binary()] + args, capture_output=True, text=True,
                          timeout=timeout, env=full_env, **kwargs)


def start(args, env=None, **kwargs):
    full_env = dict(os.environ)
    for name in ("ONLYONE_ZK", "ZKHOSTS"):
        full_env.pop(name, None)
    full_env.update(env or {})
    return subprocess.Popen([onlyone_binary()] + args, env=full_env, **kwargs)


def status_json(connect, name):
    """`onlyone --zk CONNECT status --json NAME`, parsed; it must succeed."""
    result = run(["--zk", connect, "status", "--json", name])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def entries_of(connect, name):
    """The holders and waiters of one lock, in queue order."""
    locks = status_json(connect, name)["locks"]
    return locks[0]["entries"] if locks else []


def read_text(path):
    """The whole file, closed again (no ResourceWarning noise in the logs)."""
    with open(path) as f:
        return f.read()


def gone(pid):
    """The process is dead, a zombie or dying (state Z or X). Trap: it can
    vanish between any two looks at /proc, and reading the stat of a process
    being reaped fails with ESRCH (ProcessLookupError), not ENOENT: both
    mean gone."""
    try:
        stat = read_text("/proc/%d/stat" % pid)
    except (FileNotFoundError, ProcessLookupError):
        return True
    # The state follows the command name, which is in parentheses and may
    # itself contain spaces or parentheses.
    return stat[stat.rindex(")") + 2] in "ZX"


def unique_name(prefix):
    """A lock name no other case of the run uses."""
    return prefix + "-" + uuid.uuid4().hex[:12]


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


if __name__ == "__main__":
    # `zk_fixture.py serve`: a standalone server for bench/run.sh. Prints its
    # connect string, then serves until stdin closes or SIGTERM.
    if sys.argv[1:] != ["serve"]:
        sys.exit("usage: zk_fixture.py serve")
    server = standalone()
    print(server.connect, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
