#include "platform/backend.h"

#include <errno.h>
#include <string.h>

#include <gtest/gtest.h>

namespace onlyone {
namespace {

TEST(DescribeBackendStatus, DropsTheLibrarysPrefix) {
  BackendStatus status;
  status.error = BackendError::kIo;
  status.os_error = EIO;
  status.message = "onlyone: cannot read x: Input/output error";
  EXPECT_EQ(DescribeBackendStatus(status), "cannot read x: Input/output error");
}

TEST(DescribeBackendStatus, NamesTheErrorAndErrnoWithoutAMessage) {
  BackendStatus status;
  status.error = BackendError::kIo;
  status.os_error = EIO;
  EXPECT_EQ(DescribeBackendStatus(status), std::string("i/o error: ") + strerror(EIO));
  status.error = BackendError::kUnreachable;
  status.os_error = 0;
  EXPECT_EQ(DescribeBackendStatus(status), "unreachable");
}

}  // namespace
}  // namespace onlyone
