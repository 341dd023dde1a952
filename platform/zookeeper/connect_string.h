// The ZooKeeper connect string: "HOST:PORT[,HOST:PORT...][/chroot]", the
// format of --zk, $ONLYONE_ZK and lockex's $ZKHOSTS.
//
// A pure function of its input (no ZooKeeper headers, no I/O, no heap use
// beyond the result), so that it can be unit-tested and fuzzed on its own.
// It is strict where the C client is lax, because the C client's failures
// are late and vague: zookeeper_init() accepts "host:" or "host:99999" and
// then retries forever; a chroot with "//" or a trailing "/" is only refused
// once the first request is made. We refuse those up front, with a message
// that says what is wrong.
#ifndef ONLYONE_PLATFORM_ZOOKEEPER_CONNECT_STRING_H_
#define ONLYONE_PLATFORM_ZOOKEEPER_CONNECT_STRING_H_

#include <stdint.h>

#include <string>
#include <vector>

namespace onlyone {
namespace zookeeper {

// ZooKeeper's default client port, used when a host has no ":PORT" (as the
// Java client and kazoo do).
constexpr uint16_t kDefaultClientPort = 2181;
// Limits, so that a hostile or mistyped value cannot make us allocate much.
constexpr size_t kConnectStringBytesMax = 4096;
constexpr size_t kEndpointsMax = 64;
constexpr size_t kHostBytesMax = 253;  // a DNS name's longest text form
constexpr size_t kPathBytesMax = 1024;

enum class ConnectStringError : uint8_t {
  kNone = 0,
  kEmpty,         // nothing at all, or only a chroot
  kTooLong,       // longer than kConnectStringBytesMax
  kTooManyHosts,  // more than kEndpointsMax endpoints
  kEmptyHost,     // ",," or ":2181" or a trailing ','
  kBadHost,       // a character no host name or address has, or too long
  kBadPort,       // not a decimal number in 1..65535
  kBadBracket,    // an IPv6 literal without its closing ']'
  kBadChroot,     // see ValidateZnodePath
};

struct Endpoint {
  std::string host;  // a name, an IPv4 address, or an IPv6 address (no brackets)
  uint16_t port = kDefaultClientPort;
};

struct ConnectString {
  std::vector<Endpoint> endpoints;
  std::string chroot;  // "" for none, else "/a/b" (no trailing '/')
};

struct ConnectStringResult {
  ConnectStringError error = ConnectStringError::kNone;
  size_t offset = 0;    // where in the input the problem is
  std::string message;  // one line, says what to write instead
};

const char* ConnectStringErrorName(ConnectStringError error);

// Parses `text` into *out. On error *out is unspecified.
ConnectStringResult ParseConnectString(const std::string& text, ConnectString* out);

// The canonical text the C client is given: "h1:p1,[::1]:p2/chroot".
// Parsing it gives back the same ConnectString.
std::string FormatConnectString(const ConnectString& connect);

// ZooKeeper's rules for an absolute node path, which a chroot and --zk-path
// must follow: starts with '/', no empty component ("//"), no trailing '/'
// (except the root "/" itself), no "." or ".." component, no NUL or other
// control character, at most kPathBytesMax bytes. Returns "" when valid,
// else what is wrong.
std::string ValidateZnodePath(const std::string& path);

}  // namespace zookeeper
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_ZOOKEEPER_CONNECT_STRING_H_
