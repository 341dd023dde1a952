// Smoke test of the toolchain setup: a plain GoogleTest test, a GoogleMock
// matcher, and rapidcheck properties (RC_GTEST_PROP and rc::check).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

namespace {

TEST(SmokeTest, GTestWorks) { EXPECT_EQ(2 + 2, 4); }

TEST(SmokeTest, GMockMatchersWork) {
  std::vector<int> v{3, 1, 2};
  std::sort(v.begin(), v.end());
  EXPECT_THAT(v, ::testing::ElementsAre(1, 2, 3));
}

RC_GTEST_PROP(SmokeTest, ReverseTwiceIsIdentity, (const std::vector<int>& v)) {
  auto r = v;
  std::reverse(r.begin(), r.end());
  std::reverse(r.begin(), r.end());
  RC_ASSERT(r == v);
}

TEST(SmokeTest, RcCheckWorks) {
  const bool ok = rc::check("sorting is idempotent", [](std::vector<int> v) {
    std::sort(v.begin(), v.end());
    auto w = v;
    std::sort(w.begin(), w.end());
    RC_ASSERT(v == w);
  });
  EXPECT_TRUE(ok);
}

}  // namespace
