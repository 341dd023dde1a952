// Checked-in traces: a broken example's trace is compared with the file in
// testdata/, so the tool is shown able to fail, and a change in what it
// reports is reviewed like code. To rewrite them after an intended change:
//   ONLYONE_UPDATE_GOLDEN=$PWD/examples/verify/testdata bazel run //examples/verify:NAME
#ifndef ONLYONE_EXAMPLES_VERIFY_GOLDEN_H_
#define ONLYONE_EXAMPLES_VERIFY_GOLDEN_H_

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "verify/verify.h"

namespace golden {

inline std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The schedule and the shrunk trace of a failing report, against testdata/NAME.
inline void ExpectTrace(const std::string& name, const onlyone::verify::Report& report) {
  const std::string actual = "violation: " + report.violation + "\nshrunk to: " + report.shrunk +
                             "\nschedule: " + report.schedule + "\ntrace:\n" + report.trace;
  if (const char* dir = getenv("ONLYONE_UPDATE_GOLDEN")) {
    std::ofstream(std::string(dir) + "/" + name) << actual;
    return;
  }
  const std::string expected = Read("examples/verify/testdata/" + name);
  EXPECT_EQ(actual, expected) << "the trace differs from examples/verify/testdata/" << name
                              << "; if the change is intended, rewrite it (see golden.h)";
}

// The rule a violation broke: its text up to the first ':'.
inline std::string Rule(const onlyone::verify::Report& report) {
  return report.violation.substr(0, report.violation.find(':'));
}

}  // namespace golden

#endif  // ONLYONE_EXAMPLES_VERIFY_GOLDEN_H_
