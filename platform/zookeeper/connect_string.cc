#include "platform/zookeeper/connect_string.h"

namespace onlyone {
namespace zookeeper {
namespace {

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.' || c == '%';
}

// Input shown inside an error message, byte for byte but harmless: the
// text comes from the command line or the environment ($ZKHOSTS may be set
// by a wrapper), and a newline or a terminal escape in it must not break the
// one-line message or reach the terminal as a control. Every byte outside
// printable ASCII, and the backslash itself, is written as \xNN, so a
// stray byte (a pasted non-breaking space, a CR from a DOS file) shows
// exactly. (cli's Printable() replaces with '?' instead: it cleans other
// users' records for a table, where the exact byte does not help.)
std::string Shown(const std::string& text) {
  static const char kHexDigits[] = "0123456789abcdef";
  std::string shown;
  shown.reserve(text.size());
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      shown += c;
    } else {
      shown += "\\x";
      shown += kHexDigits[byte >> 4];
      shown += kHexDigits[byte & 0x0f];
    }
  }
  return shown;
}

ConnectStringResult Fail(ConnectStringError error, size_t offset, const std::string& message) {
  ConnectStringResult result;
  result.error = error;
  result.offset = offset;
  result.message = message;
  return result;
}

// Strict decimal port: 1..65535, no sign, no leading zero.
bool ParsePort(const std::string& text, uint16_t* port) {
  if (text.empty() || text.size() > 5 || text[0] == '0') return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

// An element split into its host and the text of its port, if any.
struct HostAndPort {
  std::string host;
  bool has_port = false;
  std::string port_text;
};

// "[v6]" or "[v6]:port" (text[0] is '[').
ConnectStringResult SplitBracketed(const std::string& text, size_t offset, HostAndPort* out) {
  const size_t close = text.find(']');
  if (close == std::string::npos) {
    return Fail(ConnectStringError::kBadBracket, offset,
                "IPv6 address without its closing ']': write [ADDRESS]:PORT");
  }
  const std::string host = text.substr(1, close - 1);
  const size_t zone = host.find('%');  // "fe80::1%eth0": a zone is a name
  for (size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (zone != std::string::npos && i > zone ? !IsHostNameChar(c) : !IsIpv6Char(c)) {
      return Fail(ConnectStringError::kBadHost, offset + 1,
                  "'" + Shown(host) + "' is not an IPv6 address");
    }
  }
  if (host.empty()) return Fail(ConnectStringError::kEmptyHost, offset, "empty IPv6 address '[]'");
  // Brackets hold IPv6 only, and every IPv6 address has a ':' before any
  // zone: "[%eth0]" or "[1.2.3.4]" would be formatted back without
  // brackets, as a host name that is not one. A zone, if any, is a name.
  const std::string address = host.substr(0, zone);
  if (address.find(':') == std::string::npos ||
      (zone != std::string::npos && zone + 1 == host.size())) {
    return Fail(
        ConnectStringError::kBadHost, offset + 1,
        "'" + Shown(host) + "' is not an IPv6 address: write [ADDRESS]:PORT, e.g. [::1]:2181");
  }
  out->host = host;
  const std::string rest = text.substr(close + 1);
  if (!rest.empty()) {
    if (rest[0] != ':') {
      return Fail(ConnectStringError::kBadBracket, offset + close + 1,
                  "expected ':PORT' after ']' in '" + Shown(text) + "'");
    }
    out->has_port = true;
    out->port_text = rest.substr(1);
  }
  return ConnectStringResult();
}

// "host" or "host:port".
ConnectStringResult SplitPlain(const std::string& text, size_t offset, HostAndPort* out) {
  const size_t colon = text.find(':');
  out->host = text.substr(0, colon);
  if (colon != std::string::npos) {
    out->has_port = true;
    out->port_text = text.substr(colon + 1);
    if (out->port_text.find(':') != std::string::npos) {
      return Fail(ConnectStringError::kBadHost, offset,
                  "'" + Shown(text) + "' has several ':'; write an IPv6 address as [ADDRESS]:PORT");
    }
  }
  if (out->host.empty()) {
    return Fail(ConnectStringError::kEmptyHost, offset,
                "no host before ':' in '" + Shown(text) + "': write HOST:PORT");
  }
  for (size_t i = 0; i < out->host.size(); ++i) {
    if (!IsHostNameChar(out->host[i])) {
      return Fail(ConnectStringError::kBadHost, offset + i,
                  "'" + Shown(out->host) + "' is not a host name or address (unexpected '" +
                      Shown(std::string(1, out->host[i])) + "')");
    }
  }
  return ConnectStringResult();
}

// One "host[:port]" or "[v6]:port" element starting at `offset` in the input.
ConnectStringResult ParseEndpoint(const std::string& text, size_t offset, Endpoint* endpoint) {
  if (text.empty()) {
    return Fail(ConnectStringError::kEmptyHost, offset,
                "empty host: write HOST:PORT[,HOST:PORT...][/chroot], e.g. zk1:2181,zk2:2181");
  }
  HostAndPort split;
  const ConnectStringResult result =
      text[0] == '[' ? SplitBracketed(text, offset, &split) : SplitPlain(text, offset, &split);
  if (result.error != ConnectStringError::kNone) return result;
  if (split.host.size() > kHostBytesMax) {
    return Fail(ConnectStringError::kBadHost, offset,
                "host name longer than " + std::to_string(kHostBytesMax) + " bytes");
  }
  endpoint->host = split.host;
  endpoint->port = kDefaultClientPort;
  if (split.has_port && !ParsePort(split.port_text, &endpoint->port)) {
    return Fail(ConnectStringError::kBadPort, offset,
                "bad port '" + Shown(split.port_text) + "' in '" + Shown(text) +
                    "': expected a number from 1 to 65535");
  }
  return ConnectStringResult();
}

}  // namespace

const char* ConnectStringErrorName(ConnectStringError error) {
  switch (error) {
    case ConnectStringError::kNone: return "none";
    case ConnectStringError::kEmpty: return "empty";
    case ConnectStringError::kTooLong: return "too_long";
    case ConnectStringError::kTooManyHosts: return "too_many_hosts";
    case ConnectStringError::kEmptyHost: return "empty_host";
    case ConnectStringError::kBadHost: return "bad_host";
    case ConnectStringError::kBadPort: return "bad_port";
    case ConnectStringError::kBadBracket: return "bad_bracket";
    case ConnectStringError::kBadChroot: return "bad_chroot";
  }
  return "unknown";
}

std::string ValidateZnodePath(const std::string& path) {
  if (path.empty() || path[0] != '/') return "a node path must start with '/'";
  if (path.size() > kPathBytesMax) {
    return "a node path must be at most " + std::to_string(kPathBytesMax) + " bytes";
  }
  if (path == "/") return "";
  if (path.back() == '/') return "a node path must not end with '/'";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string component = path.substr(start, end - start);
    if (component.empty()) return "a node path must not contain '//'";
    if (component == "." || component == "..") {
      return "a node path must not contain '.' or '..' components";
    }
    for (char c : component) {
      const unsigned char byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7f) return "a node path must not contain control characters";
    }
    start = end + 1;
  }
  return "";
}

ConnectStringResult ParseConnectString(const std::string& text, ConnectString* out) {
  out->endpoints.clear();
  out->chroot.clear();
  if (text.size() > kConnectStringBytesMax) {
    return Fail(ConnectStringError::kTooLong, kConnectStringBytesMax,
                "connect string longer than " + std::to_string(kConnectStringBytesMax) + " bytes");
  }
  // The chroot starts at the first '/' (no host or port contains one).
  const size_t slash = text.find('/');
  const std::string hosts = text.substr(0, slash);
  if (slash != std::string::npos) {
    const std::string chroot = text.substr(slash);
    const std::string problem = ValidateZnodePath(chroot);
    if (!problem.empty()) {
      return Fail(ConnectStringError::kBadChroot, slash,
                  "bad chroot '" + Shown(chroot) + "': " + problem);
    }
    if (chroot != "/") out->chroot = chroot;  // "/" is the root: no chroot
  }
  if (hosts.empty()) {
    return Fail(ConnectStringError::kEmpty, 0,
                "no host: write HOST:PORT[,HOST:PORT...][/chroot], e.g. zk1:2181,zk2:2181/app");
  }
  size_t start = 0;
  while (start <= hosts.size()) {
    size_t comma = hosts.find(',', start);
    if (comma == std::string::npos) comma = hosts.size();
    if (out->endpoints.size() == kEndpointsMax) {
      return Fail(ConnectStringError::kTooManyHosts, start,
                  "more than " + std::to_string(kEndpointsMax) + " hosts");
    }
    Endpoint endpoint;
    const ConnectStringResult parsed =
        ParseEndpoint(hosts.substr(start, comma - start), start, &endpoint);
    if (parsed.error != ConnectStringError::kNone) return parsed;
    out->endpoints.push_back(endpoint);
    start = comma + 1;
  }
  return ConnectStringResult();
}

std::string FormatConnectString(const ConnectString& connect) {
  std::string text;
  for (size_t i = 0; i < connect.endpoints.size(); ++i) {
    const Endpoint& endpoint = connect.endpoints[i];
    if (i > 0) text += ',';
    if (endpoint.host.find(':') != std::string::npos) {
      text += "[" + endpoint.host + "]";
    } else {
      text += endpoint.host;
    }
    text += ":" + std::to_string(endpoint.port);
  }
  return text + connect.chroot;
}

}  // namespace zookeeper
}  // namespace onlyone
