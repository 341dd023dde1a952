// Assertions of what must and must not hold, kept in every build.
//
// The core runs with no libc (wasm32, bare metal), so there is no assert(3)
// to call and nothing to print: a broken invariant traps (SIGILL natively,
// `unreachable` in WebAssembly). A protocol state machine that goes on after
// an invariant broke could remove a live owner's entry; stopping is the safe
// failure. The checks cost a compare each, on a path that waits for file
// system calls, so they stay on in release builds; the model checker and the
// fuzzers then exercise every one of them on every interleaving they try.
#ifndef ONLYONE_CORE_ASSERT_H_
#define ONLYONE_CORE_ASSERT_H_

#define ONLYONE_ASSERT(condition) ((condition) ? static_cast<void>(0) : __builtin_trap())

#endif  // ONLYONE_CORE_ASSERT_H_
