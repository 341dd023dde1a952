// Verify your own use of the onlyone lock in the simulator.
//
// A Scenario puts your programs, one per simulated process, into the same
// deterministic world the protocol is proven in: a simulated lock directory
// driven by the real protocol core, processes that are killed (kill -9)
// between any two steps, pauses longer than a lease, PID reuse. Your programs
// are ordinary sequential C++; every lock operation and every access to a
// simulated resource is a point where the scheduler may switch processes or
// inject a fault. Check() explores every schedule within the bounds, or, for
// scenarios too large for that, Sample() runs seeded random schedules
// (probabilistic concurrency testing), and both report the first violation
// with a replayable schedule and a shrunk trace.
//
//   onlyone::verify::Scenario s;
//   s.processes = 2;
//   s.lock.lease_ms = 10000;        // owners on other hosts: a lease
//   s.faults.pauses = 1;            // one pause longer than the lease
//   auto store = s.AddFencedStore("orders");
//   s.Program([store](onlyone::verify::Process& p) {
//     if (!p.Acquire()) return;
//     p.Write(store, 1, p.fence()); // refused if a later holder wrote
//     p.Release();
//   });
//   onlyone::verify::Report r = onlyone::verify::Check(s);
//   EXPECT_TRUE(r.passed()) << r.Text();
//
// What the programs may do: call the Process they are given, compute, keep
// local variables. What they must not do: share variables with each other
// (captures by reference, globals), read clocks or randomness, or perform
// real I/O. A program is re-run from its start whenever the explorer needs it
// at an earlier point, and must then ask for exactly what it asked for before:
// one that does not is reported as not deterministic. docs/verify.md is the
// tutorial and states what is and is not modelled.
#ifndef ONLYONE_VERIFY_VERIFY_H_
#define ONLYONE_VERIFY_VERIFY_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace onlyone {
namespace verify {

class Process;

// A simulated resource: a value type the explorer copies, compares and
// applies operations to. Subclass it for your own (docs/verify.md shows a
// pool); Register and FencedStore below are built in.
class Resource {
 public:
  virtual ~Resource() = default;
  virtual std::unique_ptr<Resource> Clone() const = 0;
  // Equal states must give equal fingerprints: the explorer merges them.
  virtual uint64_t Fingerprint() const = 0;
  // Performs operation `op` with arguments a, b; returns its result.
  virtual int64_t Apply(uint32_t op, int64_t a, int64_t b) = 0;
  // One trace line's worth: "take -> unit 1".
  virtual std::string Describe(uint32_t op, int64_t a, int64_t b, int64_t result) const = 0;
  // The state, for traces: "free units 0, 1".
  virtual std::string State() const = 0;
  // Accesses outside a critical section are violations unless this is false.
  virtual bool guarded() const { return true; }
};

// Handles name the scenario's resources inside programs and invariants.
struct RegisterId {
  uint32_t index = 0;
};
struct StoreId {
  uint32_t index = 0;
};
struct ResourceId {
  uint32_t index = 0;
};

// The resources' values, for invariants.
class View {
 public:
  virtual ~View() = default;
  virtual int64_t Value(RegisterId r) const = 0;
  virtual int64_t Value(StoreId s) const = 0;
  virtual const Resource& Get(ResourceId r) const = 0;
  // Processes that believe they hold the lock right now.
  virtual uint32_t holders() const = 0;
};

// Inside a program: the lock, the resources, and assertions. Every call but
// index(), fence() and holding() is a point where others may run first.
class Process {
 public:
  virtual ~Process() = default;
  virtual uint32_t index() const = 0;
  // Waits until acquired. False when the lock failed (see the trace), or,
  // under a lease, when this process stalled past its own lease while it
  // queued (the lock gives its place up rather than trust an entry others
  // may have removed; a real Lock queues again, docs/verify.md).
  virtual bool Acquire() = 0;
  // One attempt: false when the lock is busy.
  virtual bool TryAcquire() = 0;
  // The fencing token of the current holding (0 when not holding).
  virtual uint64_t fence() const = 0;
  // Whether this process believes it holds the lock.
  virtual bool holding() const = 0;
  // Reads the lock's entry back: false when the lock was lost.
  virtual bool Validate() = 0;
  // Renews the lease: false when the lock was lost.
  virtual bool Refresh() = 0;
  // False when the lock had been lost before the release.
  virtual bool Release() = 0;
  virtual int64_t Read(RegisterId r) = 0;
  virtual void Write(RegisterId r, int64_t value) = 0;
  virtual int64_t Read(StoreId s) = 0;
  // A write that carries no token: the store accepts it whatever came before.
  virtual void Write(StoreId s, int64_t value) = 0;
  // A fenced write: refused (false) when the store has seen a larger token.
  virtual bool Write(StoreId s, int64_t value, uint64_t token) = 0;
  virtual int64_t Access(ResourceId r, uint32_t op, int64_t a = 0, int64_t b = 0) = 0;
  // Your own check inside a program: a violation when `holds` is false.
  virtual void Assert(bool holds, const std::string& what) = 0;
};

using Program = std::function<void(Process&)>;
using Invariant = std::function<bool(const View&)>;

struct LockOptions {
  uint32_t slots = 1;  // at most this many holders
  // 0: owners on this host, whose death the lock proves (the default for
  // onlyone). Otherwise owners count as on other hosts, whose liveness
  // cannot be checked: an entry not refreshed for lease_ms is removed.
  uint64_t lease_ms = 0;
};

struct Faults {
  uint32_t crashes = 0;     // kill -9 of a process, between any two steps
  uint32_t pauses = 0;      // time jumps by pause_ms while processes stall
  uint32_t pid_reuses = 0;  // a dead process's pid goes to an unrelated one
  uint64_t pause_ms = 0;    // 0: lease_ms + 1, a pause across a lease expiry
  // A pause may also stop a process inside one of the lock's own operations.
  // false: pauses fall only between your program's requests, which checks
  // your program assuming no lock operation is stretched across a lease
  // expiry. The lock's lease mode does not yet survive that (docs/verify.md,
  // "What a lease does not give you"), so the default finds the lock's gap
  // before your program's.
  bool pause_inside_lock = true;
};

struct Bounds {
  uint64_t max_states = 5'000'000;  // Check(): distinct states explored
  uint32_t max_steps = 2'000;       // Sample(): steps in one run
  bool reduce = true;               // partial-order reduction (docs/verify.md)
  bool shrink = true;               // shrink a failing trace
};

class Scenario {
 public:
  uint32_t processes = 2;
  LockOptions lock;
  Faults faults;
  Bounds bounds;

  RegisterId AddRegister(const std::string& name, int64_t initial = 0);
  StoreId AddFencedStore(const std::string& name, int64_t initial = 0);
  ResourceId AddResource(const std::string& name, std::unique_ptr<Resource> resource);
  // The program every process runs, or process `index`'s own.
  void Program(verify::Program program);
  void Program(uint32_t index, verify::Program program);
  // Checked after every step, and only at the end (every process finished
  // or was killed), respectively.
  void Always(const std::string& name, Invariant holds);
  void AtEnd(const std::string& name, Invariant holds);

  // For the explorer.
  struct ResourceSpec {
    std::string name;
    std::shared_ptr<const Resource> initial;
    uint8_t kind = 0;
  };
  struct NamedInvariant {
    std::string name;
    Invariant holds;
  };
  const std::vector<ResourceSpec>& resources() const { return resources_; }
  const verify::Program* ProgramOf(uint32_t index) const;
  const std::vector<NamedInvariant>& always() const { return always_; }
  const std::vector<NamedInvariant>& at_end() const { return at_end_; }

 private:
  std::vector<ResourceSpec> resources_;
  verify::Program common_;
  std::vector<verify::Program> own_;
  std::vector<NamedInvariant> always_;
  std::vector<NamedInvariant> at_end_;
};

// What the explorer reached: so a user can see their faults were exercised.
struct Coverage {
  uint64_t crashes = 0;
  uint64_t pauses = 0;
  uint64_t pid_reuses = 0;
  uint64_t leases_expired = 0;  // entries removed because their lease ran out
  uint64_t locks_lost = 0;      // Validate, Refresh or Release answered "lost"
  uint64_t acquisitions = 0;
  uint64_t busy = 0;  // TryAcquire answered "busy"
};

struct Report {
  bool violated = false;
  std::string violation;  // what was violated
  std::string schedule;   // paste into Replay() to re-run the failing schedule
  std::string trace;      // the shrunk failing run, one line per event
  std::string shrunk;     // "2 processes, 1 fault, 1 preemption"
  uint64_t seed = 0;      // Sample(): the run's seed
  std::string method;     // "exhaustive" or "PCT depth 3, 1000 runs, seed 1"
  uint64_t states = 0;    // Check(): distinct states
  uint64_t transitions = 0;
  uint64_t runs = 0;                  // Sample(): runs made
  bool complete = true;               // Check(): false when a bound cut the search
  std::string cut_by;                 // which bound
  Coverage reached;                   // the most of each seen in any state or run
  std::vector<std::string> warnings;  // e.g. a fault budget never reached
  double seconds = 0;

  // A pass that explored everything and exercised its faults.
  bool passed() const { return !violated && complete && warnings.empty(); }
  // The whole report as the examples print it.
  std::string Text() const;
};

// Every schedule within the scenario's bounds (exhaustive, with state
// caching and partial-order reduction).
Report Check(const Scenario& scenario);

struct Sampling {
  uint64_t seed = 1;
  uint64_t runs = 1000;
  uint32_t depth = 3;  // PCT's bug depth d: priority change points + 1
};
// Seeded random schedules with PCT priorities (docs/verify.md gives the bound).
Report Sample(const Scenario& scenario, const Sampling& sampling);

// Re-runs one schedule as Report::schedule spelled it.
Report Replay(const Scenario& scenario, const std::string& schedule);

// The protocol's own program as a scenario: each process acquires (waiting)
// and releases, `rounds` times. The model checker proves this program; here
// it runs through the same engine as users' programs.
Scenario ProtocolScenario(uint32_t processes, uint32_t slots, uint32_t rounds);

}  // namespace verify
}  // namespace onlyone

#endif  // ONLYONE_VERIFY_VERIFY_H_
