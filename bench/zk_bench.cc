// ZooKeeper lock benchmark: onlyone's ZkLock against a running server
// (bench/run.sh starts a standalone one; bench/peer_kazoo.py measures kazoo's
// Lock on the same server in the same run).
//
//   zk_bench --zk HOST:PORT --mode cycle   --samples N   uncontended TryAcquire+Release
//   zk_bench --zk HOST:PORT --mode handoff --samples N [--contenders C]
//                                                         release -> next waiter running
//
// Prints one line: "zk <mode> onlyone n=.. median_us=.. p99_us=.. requests_per_acquire=..
// requests_per_release=.. notifications_per_release=.. server_packets_per_cycle=..".
// Round trips are counted by the client (ZkCounters: every request is one
// round trip) and cross-checked by the server's zk_packets_received (mntr),
// which also counts the client's pings.
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "platform/zookeeper/zk_lock.h"

namespace {

using onlyone::zookeeper::ZkCounters;
using onlyone::zookeeper::ZkLock;
using onlyone::zookeeper::ZkOptions;
using onlyone_bench::Die;
using onlyone_bench::NowNs;

constexpr int kWarmupCycles = 20;
constexpr int64_t kHandoffHoldUs = 20000;  // so that the other side is surely waiting

// zk_packets_received from the server's mntr four-letter word (-1: unknown).
long long ServerPacketsReceived(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  if (write(fd, "mntr", 4) != 4) {
    close(fd);
    return -1;
  }
  std::string reply;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) reply.append(buffer, static_cast<size_t>(n));
  close(fd);
  const std::string key = "zk_packets_received\t";
  const size_t at = reply.find(key);
  return at == std::string::npos ? -1 : atoll(reply.c_str() + at + key.size());
}

double Percentile(std::vector<int64_t> samples, double fraction) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(ceil(fraction * static_cast<double>(samples.size())));
  if (rank == 0) rank = 1;
  return static_cast<double>(samples[rank - 1]) / 1000.0;
}

ZkOptions Options(const std::string& connect, const std::string& path) {
  ZkOptions options;
  options.connect = connect;
  options.lock_path = path;
  options.session_timeout_ms = 10000;
  options.command = "zk_bench";
  return options;
}

void Cycle(const std::string& connect, int port, int samples) {
  ZkLock lock(Options(connect, "/bench/onlyone-cycle"));
  for (int i = 0; i < kWarmupCycles; ++i) {
    if (!lock.TryAcquire() || !lock.Release()) Die("warm-up: " + lock.status().message);
  }
  std::vector<int64_t> durations;
  uint64_t acquire_requests = 0, release_requests = 0;
  const long long packets_before = ServerPacketsReceived(port);
  for (int i = 0; i < samples; ++i) {
    const ZkCounters before = lock.counters();
    const int64_t start = NowNs();
    if (!lock.TryAcquire()) Die("acquire: " + lock.status().message);
    const ZkCounters acquired = lock.counters();
    if (!lock.Release()) Die("release: " + lock.status().message);
    durations.push_back(NowNs() - start);
    acquire_requests += acquired.requests - before.requests;
    release_requests += lock.counters().requests - acquired.requests;
  }
  const long long packets_after = ServerPacketsReceived(port);
  printf(
      "zk cycle onlyone n=%d median_us=%.1f p99_us=%.1f requests_per_acquire=%.2f "
      "requests_per_release=%.2f server_packets_per_cycle=%.2f\n",
      samples, Percentile(durations, 0.5), Percentile(durations, 0.99),
      static_cast<double>(acquire_requests) / samples,
      static_cast<double>(release_requests) / samples,
      packets_before < 0 ? -1.0 : static_cast<double>(packets_after - packets_before) / samples);
}

// `contenders` threads, each with its own session, hand the lock around.
// Every notification any of them receives is counted: with N waiters, a
// herd would show as up to N notifications per release.
void Handoff(const std::string& connect, int samples, int contenders) {
  std::atomic<int64_t> released_at_ns{0};
  std::atomic<int> done{0};
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(contenders));
  std::vector<uint64_t> events(static_cast<size_t>(contenders), 0);
  std::vector<int> acquisitions(static_cast<size_t>(contenders), 0);
  auto contender = [&](int me) {
    ZkLock lock(Options(connect, "/bench/onlyone-handoff"));
    const uint64_t events_at_start = lock.counters().node_events;
    while (done.load() < samples) {
      if (!lock.Acquire(onlyone::kWaitForever)) Die("acquire: " + lock.status().message);
      const int64_t now = NowNs();
      const int64_t released = released_at_ns.exchange(0);
      if (released != 0) {
        latencies[me].push_back(now - released);
        ++acquisitions[me];
        done.fetch_add(1);
      }
      usleep(kHandoffHoldUs);
      released_at_ns.store(NowNs());
      if (!lock.Release()) Die("release: " + lock.status().message);
    }
    events[me] = lock.counters().node_events - events_at_start;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < contenders; ++i) threads.emplace_back(contender, i);
  for (std::thread& thread : threads) thread.join();
  std::vector<int64_t> all;
  int handoffs = 0;
  uint64_t notifications = 0;
  for (int i = 0; i < contenders; ++i) {
    all.insert(all.end(), latencies[i].begin(), latencies[i].end());
    handoffs += acquisitions[i];
    notifications += events[i];
  }
  printf(
      "zk handoff onlyone contenders=%d n=%d median_us=%.1f p99_us=%.1f "
      "notifications_per_release=%.2f\n",
      contenders, handoffs, Percentile(all, 0.5), Percentile(all, 0.99),
      static_cast<double>(notifications) / handoffs);
}

}  // namespace

int main(int argc, char** argv) {
  std::string connect, mode = "cycle";
  int samples = 500;
  int contenders = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--zk")
      connect = argv[i + 1];
    else if (flag == "--mode")
      mode = argv[i + 1];
    else if (flag == "--samples")
      samples = atoi(argv[i + 1]);
    else if (flag == "--contenders")
      contenders = atoi(argv[i + 1]);
    else
      Die("unknown flag " + flag);
  }
  if (connect.empty() || samples <= 0)
    Die("usage: zk_bench --zk HOST:PORT [--mode cycle|handoff] [--samples N]");
  const int port = atoi(connect.substr(connect.rfind(':') + 1).c_str());
  if (mode == "cycle")
    Cycle(connect, port, samples);
  else if (mode == "handoff")
    Handoff(connect, samples, contenders < 2 ? 2 : contenders);
  else
    Die("unknown mode " + mode);
  return 0;
}
