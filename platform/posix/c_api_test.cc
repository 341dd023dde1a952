#include "platform/posix/onlyone.h"

#include <stdlib.h>
#include <string.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/posix/process_util.h"

namespace {

std::string TempDir() { return onlyone::testing_posix::MakeScratchDir("capi"); }

TEST(CApi, AcquiresReleasesAndRefusesASecondHolder) {
  const std::string dir = TempDir();
  onlyone_lock* first = onlyone_open("job", dir.c_str(), 1);
  onlyone_lock* second = onlyone_open("job", dir.c_str(), 1);
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(onlyone_try_acquire(first), ONLYONE_OK) << onlyone_error_message(first);
  EXPECT_EQ(onlyone_fence(first), 1u);
  EXPECT_STREQ(onlyone_error_message(first), "");
  EXPECT_EQ(onlyone_try_acquire(second), ONLYONE_BUSY);
  EXPECT_NE(strstr(onlyone_error_message(second), "is held by pid"), nullptr)
      << onlyone_error_message(second);
  EXPECT_EQ(onlyone_acquire(second, 100), ONLYONE_BUSY);
  EXPECT_EQ(onlyone_fence(second), 0u);
  EXPECT_EQ(onlyone_release(first), ONLYONE_OK);
  EXPECT_EQ(onlyone_release(first), ONLYONE_INVALID_ARGUMENT) << "not held any more";
  EXPECT_EQ(onlyone_acquire(second, ONLYONE_WAIT_FOREVER), ONLYONE_OK);
  EXPECT_EQ(onlyone_fence(second), 2u);
  onlyone_close(second);  // releases
  EXPECT_EQ(onlyone_try_acquire(first), ONLYONE_OK);
  onlyone_close(first);
}

TEST(CApi, ReportsBadArgumentsAsCodesNotCrashes) {
  EXPECT_EQ(onlyone_open(nullptr, nullptr, 1), nullptr);
  EXPECT_EQ(onlyone_try_acquire(nullptr), ONLYONE_INVALID_ARGUMENT);
  EXPECT_EQ(onlyone_release(nullptr), ONLYONE_INVALID_ARGUMENT);
  onlyone_cancel(nullptr);
  onlyone_close(nullptr);
  const std::string dir = TempDir();
  onlyone_lock* lock = onlyone_open("a/b", dir.c_str(), 1);
  EXPECT_EQ(onlyone_try_acquire(lock), ONLYONE_INVALID_ARGUMENT);
  EXPECT_NE(strstr(onlyone_error_message(lock), "invalid lock name"), nullptr);
  onlyone_close(lock);
  lock = onlyone_open("job", dir.c_str(), 0);
  EXPECT_EQ(onlyone_try_acquire(lock), ONLYONE_INVALID_ARGUMENT);
  onlyone_close(lock);
}

}  // namespace
