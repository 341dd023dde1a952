#!/usr/bin/env python3
"""kazoo's Lock, measured like bench/zk_bench.cc on the same server.

  peer_kazoo.py --zk HOST:PORT --mode cycle|handoff --samples N

cycle: uncontended acquire(blocking=False)+release on one Lock; handoff: C
clients (C sessions, default 2) hand the lock around, release -> the next
one's acquire returning. Server packets per cycle from mntr's zk_packets_received;
watch notifications per release counted in kazoo's watcher callback
(Lock._watch_predecessor, the only watch the recipe sets).
"""
import argparse
import math
import socket
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.lock import Lock

WARMUP = 20
HOLD_S = 0.020


def packets_received(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"mntr")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return -1
    for line in data.decode().splitlines():
        if line.startswith("zk_packets_received"):
            return int(line.split()[1])
    return -1


def percentile(samples, fraction):
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1] / 1000.0


def client(hosts):
    c = KazooClient(hosts=hosts, timeout=10)
    c.start(timeout=30)
    return c


def cycle(hosts, port, samples):
    c = client(hosts)
    lock = c.Lock("/bench/kazoo-cycle", "peer_kazoo")
    for _ in range(WARMUP):
        assert lock.acquire(blocking=False)
        lock.release()
    durations = []
    before = packets_received(port)
    for _ in range(samples):
        start = time.monotonic_ns()
        assert lock.acquire(blocking=False)
        lock.release()
        durations.append(time.monotonic_ns() - start)
    after = packets_received(port)
    c.stop()
    print("zk cycle kazoo n=%d median_us=%.1f p99_us=%.1f server_packets_per_cycle=%.2f"
          % (samples, percentile(durations, 0.5), percentile(durations, 0.99),
             (after - before) / samples if before >= 0 else -1))


def handoff(hosts, samples, contenders):
    state = {"released_at": 0, "done": 0, "latencies": [], "notifications": 0}
    guard = threading.Lock()
    original = Lock._watch_predecessor

    def counting(self, event):
        with guard:
            state["notifications"] += 1
        return original(self, event)

    Lock._watch_predecessor = counting

    def contender():
        c = client(hosts)
        lock = c.Lock("/bench/kazoo-handoff")
        while state["done"] < samples:
            lock.acquire()
            now = time.monotonic_ns()
            with guard:
                released, state["released_at"] = state["released_at"], 0
                if released:
                    state["latencies"].append(now - released)
                    state["done"] += 1
            time.sleep(HOLD_S)
            state["released_at"] = time.monotonic_ns()
            lock.release()
        c.stop()

    threads = [threading.Thread(target=contender) for _ in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = len(state["latencies"])
    print("zk handoff kazoo contenders=%d n=%d median_us=%.1f p99_us=%.1f notifications_per_release=%.2f"
          % (contenders, n, percentile(state["latencies"], 0.5), percentile(state["latencies"], 0.99),
             state["notifications"] / n))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zk", required=True)
    parser.add_argument("--mode", default="cycle")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--contenders", type=int, default=2)
    args = parser.parse_args()
    port = int(args.zk.rsplit(":", 1)[1])
    if args.mode == "cycle":
        cycle(args.zk, port, args.samples)
    else:
        handoff(args.zk, args.samples, max(2, args.contenders))


if __name__ == "__main__":
    main()
