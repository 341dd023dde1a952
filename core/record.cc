#include "core/record.h"

namespace onlyone {
namespace {

constexpr char kMagic[] = "onlyone";
constexpr char kVersion1[] = "onlyone1";
constexpr char kVersion2[] = "onlyone2";
// A version 2 fence record: the kind is part of the version word, so that an
// onlyone that knows only version 1 refuses it as an unknown version.
constexpr char kVersion2Fence[] = "onlyone2f";
constexpr char kField2 = '.';
// Base-64 digits of version 2, in value order. Neither '.' nor '/' is one.
constexpr char kBase64Digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
constexpr uint32_t kBase64DigitsMax = 11;  // 64 bits in 6-bit digits
constexpr uint32_t kNonceCheckBits = 12;
// Every record ends with this field. The last free-text field could
// otherwise be cut anywhere and still parse: a truncated record must be
// reported as malformed, never read as a shorter command.
constexpr char kTerminator[] = ";end";
// Decimal digits of the largest uint64_t (18446744073709551615).
constexpr uint32_t kDecimalDigitsMax = 20;

const char* StateName(EntryState state) {
  switch (state) {
    case EntryState::kChoosing: return "choosing";
    case EntryState::kWaiting: return "waiting";
  }
  return "choosing";
}

// Bytes that may stand for themselves in a free-text field. Everything else
// (';' and '=' which delimit fields, '%', spaces, controls, non-ASCII) is
// percent-encoded, so a field can never forge another field.
bool IsPlainTextByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/' || c == ':' || c == ',' || c == '+' || c == '@';
}

constexpr char kHexDigits[] = "0123456789abcdef";

int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The offset of the first byte of `hex` that is not a lowercase hex digit,
// or hex.size.
uint32_t FirstNonHex(Bytes hex) {
  uint32_t i = 0;
  while (i < hex.size && LowerHexValue(hex.data[i]) >= 0) ++i;
  return i;
}
constexpr char kPercentHexDigits[] = "0123456789ABCDEF";

class Writer {
 public:
  explicit Writer(RecordText* out) : out_(out) { out_->Clear(); }

  void Text(const char* text) { ok_ = ok_ && out_->Append(View(text)); }

  void Decimal(uint64_t value) {
    char digits[kDecimalDigitsMax];
    uint32_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) ok_ = ok_ && out_->AppendChar(digits[--count]);
  }

  // A version 2 number: base 64, most significant digit first, no leading
  // zero.
  void Base64(uint64_t value) {
    char digits[kBase64DigitsMax];
    uint32_t count = 0;
    do {
      digits[count++] = kBase64Digits[value & 63];
      value >>= 6;
    } while (value != 0);
    while (count > 0) ok_ = ok_ && out_->AppendChar(digits[--count]);
  }

  void Field2(uint64_t value) {
    ok_ = ok_ && out_->AppendChar(kField2);
    Base64(value);
  }

  void Hex128(Id128 id) {
    char digits[kId128HexDigits];
    FormatId128(id, digits);
    ok_ = ok_ && out_->Append(Bytes{digits, kId128HexDigits});
  }

  void Escaped(Bytes text) {
    for (uint32_t i = 0; i < text.size; ++i) {
      const char c = text.data[i];
      if (IsPlainTextByte(c)) {
        ok_ = ok_ && out_->AppendChar(c);
      } else {
        const uint8_t byte = static_cast<uint8_t>(c);
        ok_ = ok_ && out_->AppendChar('%');
        ok_ = ok_ && out_->AppendChar(kPercentHexDigits[byte >> 4]);
        ok_ = ok_ && out_->AppendChar(kPercentHexDigits[byte & 0xF]);
      }
    }
  }

  bool ok() const { return ok_; }

 private:
  RecordText* out_;
  bool ok_ = true;
};

class Reader {
 public:
  explicit Reader(Bytes text) : text_(text) {}

  // Consumes `literal` exactly.
  bool Expect(const char* literal) {
    const Bytes want = View(literal);
    if (!StartsWith(Bytes{text_.data + offset_, text_.size - offset_}, want)) return Fail();
    offset_ += want.size;
    return true;
  }

  // A canonical decimal: digits only, no leading zero unless it is "0", no
  // overflow. Canonical forms are what makes parse(encode(x)) == x and
  // encode(parse(t)) == t both hold.
  bool Decimal(uint64_t* value) {
    const uint32_t start = offset_;
    uint64_t result = 0;
    while (offset_ < text_.size && IsDigit(text_.data[offset_])) {
      const uint64_t digit = static_cast<uint64_t>(text_.data[offset_] - '0');
      if (result > (UINT64_MAX - digit) / 10) return Fail();
      result = result * 10 + digit;
      ++offset_;
    }
    const uint32_t count = offset_ - start;
    if (count == 0) return Fail();
    if (count > 1 && text_.data[start] == '0') return FailAt(start);
    *value = result;
    return true;
  }

  // The counterpart of Writer::Base64, as strict: canonical digits only.
  bool Base64(uint64_t* value) {
    const uint32_t start = offset_;
    uint64_t result = 0;
    while (offset_ < text_.size) {
      const int digit = Base64Value(text_.data[offset_]);
      if (digit < 0) break;
      if (result > (UINT64_MAX >> 6)) return Fail();
      result = (result << 6) | static_cast<uint64_t>(digit);
      ++offset_;
    }
    const uint32_t count = offset_ - start;
    if (count == 0) return Fail();
    if (count > 1 && text_.data[start] == '0') return FailAt(start);
    *value = result;
    return true;
  }

  bool Field2(uint64_t* value) { return Expect(".") && Base64(value); }

  bool Field2Narrow(uint32_t* value) {
    uint64_t wide = 0;
    if (!Field2(&wide) || wide > UINT32_MAX) return Fail();
    *value = static_cast<uint32_t>(wide);
    return true;
  }

  bool Decimal32(uint32_t* value) {
    uint64_t wide = 0;
    if (!Decimal(&wide)) return false;
    if (wide > UINT32_MAX) return Fail();
    *value = static_cast<uint32_t>(wide);
    return true;
  }

  bool Hex128(Id128* id) {
    if (text_.size - offset_ < kId128HexDigits) return Fail();
    const Bytes hex{text_.data + offset_, kId128HexDigits};
    if (!ParseId128(hex, id)) return FailAt(offset_ + FirstNonHex(hex));
    offset_ += kId128HexDigits;
    return true;
  }

  // Percent-decodes up to the next ';' (or the end) into `out`. Rejects an
  // escape of a byte that did not need one, lowercase escapes, and bare bytes
  // that should have been escaped: one text has exactly one encoding.
  template <uint32_t kCapacityBytes>
  bool Escaped(FixedBytes<kCapacityBytes>* out) {
    out->Clear();
    while (offset_ < text_.size && text_.data[offset_] != ';') {
      const char c = text_.data[offset_];
      if (c == '%') {
        if (text_.size - offset_ < 3) return Fail();
        const int high = UpperHexValue(text_.data[offset_ + 1]);
        const int low = UpperHexValue(text_.data[offset_ + 2]);
        if (high < 0 || low < 0) return Fail();
        const char decoded = static_cast<char>((high << 4) | low);
        if (IsPlainTextByte(decoded)) return Fail();
        if (!out->AppendChar(decoded)) return Fail();
        offset_ += 3;
      } else {
        if (!IsPlainTextByte(c)) return Fail();
        if (!out->AppendChar(c)) return Fail();
        ++offset_;
      }
    }
    return true;
  }

  bool AtEnd() const { return offset_ == text_.size; }
  uint32_t offset() const { return offset_; }
  Bytes rest() const { return Bytes{text_.data + offset_, text_.size - offset_}; }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static int Base64Value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 36;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  }
  static int UpperHexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Fail() { return false; }
  bool FailAt(uint32_t offset) {
    offset_ = offset;
    return false;
  }

  Bytes text_;
  uint32_t offset_ = 0;
};

// Checks the "onlyone<version>" prefix shared by every record kind and
// consumes it with its separator; `fence` selects the version 2 kind word.
ParseResult ParseHeader(Reader* reader, Bytes text, bool fence) {
  if (text.size > kRecordBytesMax) return {ParseError::kTooLong, kRecordBytesMax, 0};
  if (!StartsWith(text, View(kMagic))) return {ParseError::kNotARecord, 0, 0};
  if (reader->Expect(kVersion1) && reader->Expect(";")) return {ParseError::kNone, 0, 1};
  // Version 2: the fence kind word first, since the owner one is its prefix.
  const char* const words[] = {kVersion2Fence, kVersion2};
  for (const char* word : words) {
    Reader again(text);
    if (!again.Expect(word) || again.rest().size == 0 || again.rest().data[0] != kField2) continue;
    // The other kind of record where this one belongs is garbage, not news.
    if ((word == kVersion2Fence) != fence) return {ParseError::kMalformed, 0, 0};
    *reader = again;
    return {ParseError::kNone, 0, 2};
  }
  // "onlyone" followed by anything else: a newer format (or a damaged one),
  // or the other kind of record. Either way it is not ours to interpret.
  return {ParseError::kUnknownVersion, LiteralSize(kMagic), 0};
}

ParseResult Malformed(const Reader& reader) { return {ParseError::kMalformed, reader.offset(), 0}; }

// The identity fields shared by owner and fence records, in their order.
void WriteIdentity(const Identity& owner, Writer* writer) {
  writer->Text(";nonce=");
  writer->Hex128(owner.nonce);
  writer->Text(";pid=");
  writer->Decimal(owner.pid);
  writer->Text(";start=");
  writer->Decimal(owner.start_time);
  writer->Text(";boot=");
  writer->Hex128(owner.boot_id);
  writer->Text(";pidns=");
  writer->Decimal(owner.pid_namespace);
  writer->Text(";host=");
  writer->Escaped(owner.host.view());
}

// The last field of every record, then the terminator.
void WriteCommandAndEnd(const Identity& owner, Writer* writer) {
  writer->Text(";cmd=");
  writer->Escaped(owner.command.view());
  writer->Text(kTerminator);
}

bool ReadIdentity(Reader* reader, Identity* owner) {
  return reader->Expect(";nonce=") && reader->Hex128(&owner->nonce) && reader->Expect(";pid=") &&
         reader->Decimal32(&owner->pid) && reader->Expect(";start=") &&
         reader->Decimal(&owner->start_time) && reader->Expect(";boot=") &&
         reader->Hex128(&owner->boot_id) && reader->Expect(";pidns=") &&
         reader->Decimal(&owner->pid_namespace) && reader->Expect(";host=") &&
         reader->Escaped(&owner->host);
}

}  // namespace

const char* ParseErrorName(ParseError error) {
  switch (error) {
    case ParseError::kNone: return "ok";
    case ParseError::kNotARecord: return "not an onlyone record";
    case ParseError::kUnknownVersion: return "unknown record version";
    case ParseError::kMalformed: return "malformed record";
    case ParseError::kTooLong: return "record too long";
  }
  return "unknown parse error";
}

void FormatId128(Id128 id, char (&out)[kId128HexDigits]) {
  for (uint32_t i = 0; i < kId128HexDigits; ++i) {
    const uint64_t half = i < kId128HexDigits / 2 ? id.hi : id.lo;
    const uint32_t shift = 4 * (kId128HexDigits / 2 - 1 - i % (kId128HexDigits / 2));
    out[i] = kHexDigits[(half >> shift) & 0xF];
  }
}

bool ParseId128(Bytes hex, Id128* id) {
  if (hex.size != kId128HexDigits || FirstNonHex(hex) != hex.size) return false;
  Id128 result;
  for (uint32_t i = 0; i < kId128HexDigits; ++i) {
    uint64_t& half = i < kId128HexDigits / 2 ? result.hi : result.lo;
    half = (half << 4) | static_cast<uint64_t>(LowerHexValue(hex.data[i]));
  }
  *id = result;
  return true;
}

uint32_t NonceCheck(Id128 nonce) {
  constexpr uint64_t kCheckValues = uint64_t{1} << kNonceCheckBits;
  // A nonce below 2^12 is its own check: the stand-in nonce of a record
  // parsed without a name (see ParseRecord) re-encodes to the same check.
  if (nonce.hi == 0 && nonce.lo < kCheckValues) return static_cast<uint32_t>(nonce.lo);
  // Multiplicative mixing, so that nonces differing in a pattern (a counter,
  // a copy edited by hand) still get different checks.
  const uint64_t mixed = (nonce.hi ^ (nonce.lo * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
  return static_cast<uint32_t>(mixed >> (64 - kNonceCheckBits));
}

namespace {

bool RecordInRange(const OwnerRecord& record) {
  if (record.slots == 0 || record.slots > kSlotsMax) return false;
  // The parser's cross-field rule, enforced here too: what we write we read.
  return (record.state == EntryState::kChoosing) == (record.ticket == 0);
}

// Version 2's identity fields, shared by owner and fence records.
void WriteIdentity2(const Identity& owner, Writer* writer) {
  writer->Field2(owner.pid);
  writer->Field2(owner.start_time);
  writer->Field2(owner.boot_id.hi);
  writer->Field2(owner.pid_namespace);
}

bool ReadIdentity2(Reader* reader, Identity* owner) {
  *owner = Identity();
  return reader->Field2Narrow(&owner->pid) && reader->Field2(&owner->start_time) &&
         reader->Field2(&owner->boot_id.hi) && reader->Field2(&owner->pid_namespace);
}

ParseResult ParseRecord1(Reader* reader, OwnerRecord* record) {
  if (!reader->Expect("state=")) return Malformed(*reader);
  if (reader->Expect("choosing")) {
    record->state = EntryState::kChoosing;
  } else if (reader->Expect("waiting")) {
    record->state = EntryState::kWaiting;
  } else {
    return Malformed(*reader);
  }
  if (!reader->Expect(";ticket=") || !reader->Decimal(&record->ticket)) return Malformed(*reader);
  if (!reader->Expect(";slots=") || !reader->Decimal32(&record->slots)) return Malformed(*reader);
  if (record->slots == 0 || record->slots > kSlotsMax) return Malformed(*reader);
  if (!ReadIdentity(reader, &record->owner)) return Malformed(*reader);
  if (!reader->Expect(";since=") || !reader->Decimal(&record->since_ms)) return Malformed(*reader);
  if (!reader->Expect(";seen=") || !reader->Decimal(&record->refreshed_ms))
    return Malformed(*reader);
  if (!reader->Expect(";cmd=") || !reader->Escaped(&record->owner.command))
    return Malformed(*reader);
  if (!reader->Expect(kTerminator) || !reader->AtEnd()) return Malformed(*reader);
  // A choosing entry has no ticket yet; every other has a ticket of at least 1.
  const bool choosing = record->state == EntryState::kChoosing;
  if (choosing != (record->ticket == 0)) return {ParseError::kMalformed, 0, 0};
  return {ParseError::kNone, 0, 1};
}

// Version 2; `check` receives the nonce check it carries.
ParseResult ParseRecord2(Reader* reader, OwnerRecord* record, uint64_t* check) {
  uint64_t age_ms = 0;
  if (!reader->Field2(&record->ticket) || !reader->Field2Narrow(&record->slots) ||
      !ReadIdentity2(reader, &record->owner) || !reader->Field2(&record->refreshed_ms) ||
      !reader->Field2(&age_ms) || !reader->Field2(check) || !reader->AtEnd()) {
    return Malformed(*reader);
  }
  if (record->slots == 0 || record->slots > kSlotsMax || age_ms > record->refreshed_ms ||
      *check >= (1u << kNonceCheckBits)) {
    return {ParseError::kMalformed, 0, 0};
  }
  record->state = record->ticket == 0 ? EntryState::kChoosing : EntryState::kWaiting;
  record->since_ms = record->refreshed_ms - age_ms;
  return {ParseError::kNone, 0, 2};
}

// Both versions; a version 2 record is checked against `nonce` when given.
ParseResult ParseAnyRecord(Bytes text, const Id128* nonce, OwnerRecord* record) {
  Reader reader(text);
  const ParseResult header = ParseHeader(&reader, text, /*fence=*/false);
  if (header.error != ParseError::kNone) return header;
  if (header.version == 1) {
    const ParseResult parsed = ParseRecord1(&reader, record);
    if (parsed.error == ParseError::kNone && nonce != nullptr && record->owner.nonce != *nonce) {
      return {ParseError::kMalformed, 0, 0};
    }
    return parsed;
  }
  uint64_t check = 0;
  const ParseResult parsed = ParseRecord2(&reader, record, &check);
  if (parsed.error != ParseError::kNone) return parsed;
  // Without a name, the nonce {0, check}: a nonce that is its own check (see
  // NonceCheck), so that the record re-encodes to the same bytes.
  const Id128 stand_in{0, check};
  if (nonce != nullptr && check != NonceCheck(*nonce)) return {ParseError::kMalformed, 0, 0};
  record->owner.nonce = nonce != nullptr ? *nonce : stand_in;
  return parsed;
}

}  // namespace

bool EncodeCompactRecord(const OwnerRecord& record, RecordText* out) {
  if (!RecordInRange(record) || record.since_ms > record.refreshed_ms) return false;
  Writer writer(out);
  writer.Text(kVersion2);
  writer.Field2(record.ticket);
  writer.Field2(record.slots);
  WriteIdentity2(record.owner, &writer);
  writer.Field2(record.refreshed_ms);
  writer.Field2(record.refreshed_ms - record.since_ms);
  writer.Field2(NonceCheck(record.owner.nonce));
  return writer.ok();
}

bool EncodeRecord(const OwnerRecord& record, RecordText* out) {
  if (!RecordInRange(record)) return false;
  Writer writer(out);
  writer.Text(kVersion1);
  writer.Text(";state=");
  writer.Text(StateName(record.state));
  writer.Text(";ticket=");
  writer.Decimal(record.ticket);
  writer.Text(";slots=");
  writer.Decimal(record.slots);
  WriteIdentity(record.owner, &writer);
  writer.Text(";since=");
  writer.Decimal(record.since_ms);
  writer.Text(";seen=");
  writer.Decimal(record.refreshed_ms);
  WriteCommandAndEnd(record.owner, &writer);
  return writer.ok();
}

ParseResult ParseRecord(Bytes text, Id128 nonce, OwnerRecord* record) {
  return ParseAnyRecord(text, &nonce, record);
}

ParseResult ParseRecord(Bytes text, OwnerRecord* record) {
  return ParseAnyRecord(text, nullptr, record);
}

bool ParseAnchorOwner(Bytes content, OwnerRecord* owner) {
  uint32_t line = 0;
  while (line < content.size && content.data[line] != '\n') ++line;
  if (line == content.size) return false;
  const ParseResult parsed = ParseRecord(Bytes{content.data, line}, owner);
  return parsed.error == ParseError::kNone && parsed.version == 1;
}

bool EncodeCompactFence(const FenceRecord& record, RecordText* out) {
  Writer writer(out);
  writer.Text(kVersion2Fence);
  writer.Field2(record.fence);
  WriteIdentity2(record.owner, &writer);
  return writer.ok();
}

bool EncodeFence(const FenceRecord& record, RecordText* out) {
  Writer writer(out);
  writer.Text(kVersion1);
  writer.Text(";fence=");
  writer.Decimal(record.fence);
  WriteIdentity(record.owner, &writer);
  WriteCommandAndEnd(record.owner, &writer);
  return writer.ok();
}

ParseResult ParseFence(Bytes text, FenceRecord* record) {
  Reader reader(text);
  const ParseResult header = ParseHeader(&reader, text, /*fence=*/true);
  if (header.error != ParseError::kNone) return header;
  if (header.version == 2) {
    if (!reader.Field2(&record->fence) || !ReadIdentity2(&reader, &record->owner) ||
        !reader.AtEnd()) {
      return Malformed(reader);
    }
    return header;
  }
  if (!reader.Expect("fence=") || !reader.Decimal(&record->fence) ||
      !ReadIdentity(&reader, &record->owner) || !reader.Expect(";cmd=") ||
      !reader.Escaped(&record->owner.command) || !reader.Expect(kTerminator) || !reader.AtEnd()) {
    return Malformed(reader);
  }
  return header;
}

}  // namespace onlyone
