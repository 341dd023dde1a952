// Fuzz target: the ZooKeeper connect-string parser
// (platform/zookeeper/connect_string.h), the format of --zk, $ONLYONE_ZK and
// lockex's $ZKHOSTS: typed by people and read from the environment.
//
// Properties, for any text:
//   - ParseConnectString never crashes and never reads past its input;
//   - a refusal names an error, an offset inside the input (or at its end),
//     and a non-empty message saying what to write instead, of printable
//     ASCII only: the input it quotes may hold newlines or terminal escapes
//     (found by this target: a newline in the input split the message);
//   - an accepted string respects every limit (1..kEndpointsMax endpoints,
//     non-empty hosts of at most kHostBytesMax bytes, ports 1..65535) and its
//     chroot is "" or a valid node path;
//   - FormatConnectString of an accepted value parses back to the same value,
//     and formatting that gives the same text (the canonical form is a fixed
//     point: what the C client is given is what we checked).
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "fuzz/check.h"
#include "platform/zookeeper/connect_string.h"

namespace {

using onlyone::zookeeper::ConnectString;
using onlyone::zookeeper::ConnectStringError;
using onlyone::zookeeper::ConnectStringResult;

// A little over the parser's own limit, so that the too-long refusal is
// reached too; longer inputs exercise nothing new.
constexpr size_t kInputBytesMax = onlyone::zookeeper::kConnectStringBytesMax + 16;

bool SameConnectString(const ConnectString& a, const ConnectString& b) {
  if (a.chroot != b.chroot || a.endpoints.size() != b.endpoints.size()) return false;
  for (size_t i = 0; i < a.endpoints.size(); ++i) {
    if (a.endpoints[i].host != b.endpoints[i].host || a.endpoints[i].port != b.endpoints[i].port) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace zk = onlyone::zookeeper;
  if (size > kInputBytesMax) size = kInputBytesMax;
  const std::string text(reinterpret_cast<const char*>(data), size);
  ConnectString parsed;
  const ConnectStringResult result = zk::ParseConnectString(text, &parsed);
  if (result.error != ConnectStringError::kNone) {
    FUZZ_CHECK(result.offset <= text.size());
    FUZZ_CHECK(!result.message.empty());
    for (char c : result.message) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    FUZZ_CHECK(zk::ConnectStringErrorName(result.error) != nullptr);
    return 0;
  }
  FUZZ_CHECK(!parsed.endpoints.empty() && parsed.endpoints.size() <= zk::kEndpointsMax);
  for (const zk::Endpoint& endpoint : parsed.endpoints) {
    FUZZ_CHECK(!endpoint.host.empty() && endpoint.host.size() <= zk::kHostBytesMax);
    FUZZ_CHECK(endpoint.port != 0);
  }
  FUZZ_CHECK(parsed.chroot.empty() || zk::ValidateZnodePath(parsed.chroot).empty());

  const std::string canonical = zk::FormatConnectString(parsed);
  ConnectString reparsed;
  FUZZ_CHECK(zk::ParseConnectString(canonical, &reparsed).error == ConnectStringError::kNone);
  FUZZ_CHECK(SameConnectString(parsed, reparsed));
  FUZZ_CHECK(zk::FormatConnectString(reparsed) == canonical);
  return 0;
}
