// The core alone: an owner record encodes to the documented text and parses
// back to the same fields.
#include <stdio.h>
#include <string.h>

#include "core/contender.h"
#include "core/record.h"

int main() {
  onlyone::OwnerRecord record;
  record.state = onlyone::EntryState::kWaiting;
  record.ticket = 7;
  record.owner.pid = 4242;
  record.owner.host.Assign(onlyone::View("build-3"));
  record.owner.command.Assign(onlyone::View("make all"));
  record.since_ms = 1700000000000;
  onlyone::RecordText text;
  if (!onlyone::EncodeRecord(record, &text)) {
    fprintf(stderr, "EncodeRecord refused a record within range\n");
    return 1;
  }
  const char* expected_prefix = "onlyone1;state=waiting;ticket=7;slots=1;";
  if (text.size < strlen(expected_prefix) ||
      memcmp(text.data, expected_prefix, strlen(expected_prefix)) != 0) {
    fprintf(stderr, "record text %.*s\n", static_cast<int>(text.size), text.data);
    return 1;
  }
  onlyone::OwnerRecord parsed;
  onlyone::ParseResult result = onlyone::ParseRecord(text.view(), &parsed);
  if (result.error != onlyone::ParseError::kNone || parsed.ticket != 7 ||
      parsed.owner.pid != 4242 ||
      !onlyone::Equal(parsed.owner.command.view(), onlyone::View("make all"))) {
    fprintf(stderr, "parse: %s\n", onlyone::ParseErrorName(result.error));
    return 1;
  }
  printf("core_test: ok (%u bytes)\n", text.size);
  return 0;
}
