"""onlyone on a terminal (a pseudo-terminal made here): the command can read
the terminal, Ctrl-C reaches it, and the waiting status line is drawn in place.
Every read is bounded by a deadline."""
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time

ONLYONE = os.path.abspath(sys.argv[1])
FAILURES = []


def check(what, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + what + (": " + detail if not condition else ""))
    if not condition:
        FAILURES.append(what)


def run_on_terminal(argv, env, send=b"", wait_for=b"", timeout_s=10.0):
    """Runs argv as the foreground job of a new pseudo-terminal; returns
    (exit code or None on timeout, everything it printed)."""
    pid, master = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    output = b""
    deadline = time.monotonic() + timeout_s
    sent = False
    status = None
    while time.monotonic() < deadline:
        if not sent and wait_for in output:
            os.write(master, send)
            sent = True
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            output += chunk
        done, raw_status = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw_status)
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                break
            chunk = os.read(master, 4096)
            if not chunk:
                break
            output += chunk
    except OSError:
        pass
    os.close(master)
    return status, output


def read_until(master, needle, deadline):
    output = b""
    while needle not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            output += os.read(master, 4096)
    return output


def suspend_and_resume(env):
    """Ctrl-Z: onlyone must stop (as the shell would see it); SIGCONT (what
    `fg` sends) must resume the command, which can then read the terminal."""
    pid, master = pty.fork()
    if pid == 0:
        argv = [ONLYONE, "z", "--", "sh", "-c", "echo ready; read line; echo got:$line"]
        os.execve(argv[0], argv, env)
    deadline = time.monotonic() + 10
    ok = b"ready" in read_until(master, b"ready", deadline)
    os.write(master, b"\x1a")
    stopped = False
    while ok and time.monotonic() < deadline:
        done, raw_status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
        if done and os.WIFSTOPPED(raw_status):
            stopped = True
            break
        time.sleep(0.05)
    if stopped:
        # What a shell's `fg` does: give the terminal back, then SIGCONT.
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.2)
        os.write(master, b"back\n")
    output = read_until(master, b"got:back", deadline)
    finished = False
    while time.monotonic() < deadline:
        done, raw_status = os.waitpid(pid, os.WNOHANG)
        if done:
            finished = os.waitstatus_to_exitcode(raw_status) == 0
            break
        time.sleep(0.05)
    if not finished:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(master)
    if not (ok and stopped and b"got:back" in output and finished):
        print("suspend: ready=%r stopped=%r finished=%r output=%r" % (ok, stopped, finished, output))
    return ok and stopped and b"got:back" in output and finished


def main():
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    locks = os.path.join(work, "locks")
    os.mkdir(locks, 0o700)
    env = dict(os.environ, ONLYONE_DIR=locks)

    status, output = run_on_terminal(
        [ONLYONE, "t", "--", "sh", "-c", "echo ready; read line; echo got:$line"],
        env, send=b"hello\n", wait_for=b"ready")
    check("a command reads the terminal", status == 0 and b"got:hello" in output,
          "status %r output %r" % (status, output))

    status, output = run_on_terminal(
        # The trap, set before "ready", makes the exit code independent of
        # when exactly ^C arrives (dash defers SIGINT between commands).
        [ONLYONE, "t", "--", "sh", "-c",
         "trap 'exit 130' INT; echo ready; while :; do sleep 0.05; done"],
        env, send=b"\x03", wait_for=b"ready")
    check("Ctrl-C stops the command: 130", status == 130, "status %r output %r" % (status, output))

    check("Ctrl-Z stops the job and fg resumes it", suspend_and_resume(env))

    marker = os.path.join(work, "held")
    holder = subprocess.Popen([ONLYONE, "busy", "--", "sh", "-c", "touch %s; exec sleep 30" % marker],
                              env=env)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        status, output = run_on_terminal([ONLYONE, "--wait=2500ms", "busy", "--", "true"], env)
        check("a timed-out wait exits 75", status == 75, "status %r" % status)
        check("the waiting line is drawn in place", b"\r\x1b[Konlyone: waiting" in output, repr(output))
        check("the waiting line names the holder", ("pid %d" % holder.pid).encode() in output,
              repr(output))
        status, output = run_on_terminal([ONLYONE, "-q", "--wait=1500ms", "busy", "--", "true"], env)
        check("--quiet draws no waiting line", b"waiting" not in output, repr(output))
    finally:
        holder.terminate()
        holder.wait(10)

    result = subprocess.run([ONLYONE, "--wait=1500ms", "busy2", "--", "true"], env=env,
                            stderr=subprocess.PIPE, timeout=10)
    check("no waiting line when stderr is not a terminal", b"\x1b[K" not in result.stderr,
          repr(result.stderr))
    sys.exit(1 if FAILURES else 0)


main()
