#include "core/record.h"

namespace onlyone {
namespace {

constexpr char kMagic[] = "onlyone";
constexpr char kVersion1[] = "onlyone1";
// Every record ends with this field. The last free-text field could
// otherwise be cut anywhere and still parse: a truncated record must be
// reported as malformed, never read as a shorter command.
constexpr char kTerminator[] = ";end";
// Decimal digits of the largest uint64_t (18446744073709551615).
constexpr uint32_t kDecimalDigitsMax = 20;
constexpr uint32_t kId128HexDigits = 32;

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

  void Hex128(Id128 id) {
    for (int shift = 60; shift >= 0; shift -= 4) Nibble(id.hi >> shift);
    for (int shift = 60; shift >= 0; shift -= 4) Nibble(id.lo >> shift);
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
  void Nibble(uint64_t value) { ok_ = ok_ && out_->AppendChar(kHexDigits[value & 0xF]); }

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

  bool Decimal32(uint32_t* value) {
    uint64_t wide = 0;
    if (!Decimal(&wide)) return false;
    if (wide > UINT32_MAX) return Fail();
    *value = static_cast<uint32_t>(wide);
    return true;
  }

  bool Hex128(Id128* id) {
    if (text_.size - offset_ < kId128HexDigits) return Fail();
    Id128 result;
    for (uint32_t i = 0; i < kId128HexDigits; ++i) {
      const int nibble = LowerHexValue(text_.data[offset_ + i]);
      if (nibble < 0) return FailAt(offset_ + i);
      uint64_t& half = i < 16 ? result.hi : result.lo;
      half = (half << 4) | static_cast<uint64_t>(nibble);
    }
    offset_ += kId128HexDigits;
    *id = result;
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
  static int LowerHexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
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

// Checks the "onlyone<version>;" prefix shared by every record kind.
ParseResult ParseHeader(Reader* reader, Bytes text) {
  if (text.size > kRecordBytesMax) return {ParseError::kTooLong, kRecordBytesMax};
  if (!StartsWith(text, View(kMagic))) return {ParseError::kNotARecord, 0};
  if (!reader->Expect(kVersion1) || !reader->Expect(";")) {
    // "onlyone" followed by something other than "1;": a newer format (or a
    // damaged one). Either way it is not ours to interpret.
    return {ParseError::kUnknownVersion, LiteralSize(kMagic)};
  }
  return {};
}

ParseResult Malformed(const Reader& reader) { return {ParseError::kMalformed, reader.offset()}; }

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

bool EncodeRecord(const OwnerRecord& record, RecordText* out) {
  if (record.slots == 0 || record.slots > kSlotsMax) return false;
  // The parser's cross-field rule, enforced here too: what we write we read.
  if ((record.state == EntryState::kChoosing) != (record.ticket == 0)) return false;
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

ParseResult ParseRecord(Bytes text, OwnerRecord* record) {
  Reader reader(text);
  const ParseResult header = ParseHeader(&reader, text);
  if (header.error != ParseError::kNone) return header;

  if (!reader.Expect("state=")) return Malformed(reader);
  if (reader.Expect("choosing")) {
    record->state = EntryState::kChoosing;
  } else if (reader.Expect("waiting")) {
    record->state = EntryState::kWaiting;
  } else {
    return Malformed(reader);
  }
  if (!reader.Expect(";ticket=") || !reader.Decimal(&record->ticket)) return Malformed(reader);
  if (!reader.Expect(";slots=") || !reader.Decimal32(&record->slots)) return Malformed(reader);
  if (record->slots == 0 || record->slots > kSlotsMax) return Malformed(reader);
  if (!ReadIdentity(&reader, &record->owner)) return Malformed(reader);
  if (!reader.Expect(";since=") || !reader.Decimal(&record->since_ms)) return Malformed(reader);
  if (!reader.Expect(";seen=") || !reader.Decimal(&record->refreshed_ms)) return Malformed(reader);
  if (!reader.Expect(";cmd=") || !reader.Escaped(&record->owner.command)) return Malformed(reader);
  if (!reader.Expect(kTerminator) || !reader.AtEnd()) return Malformed(reader);

  // A choosing entry has no ticket yet; every other has a ticket of at least 1.
  const bool choosing = record->state == EntryState::kChoosing;
  if (choosing != (record->ticket == 0)) return {ParseError::kMalformed, 0};
  return {};
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
  const ParseResult header = ParseHeader(&reader, text);
  if (header.error != ParseError::kNone) return header;
  if (!reader.Expect("fence=") || !reader.Decimal(&record->fence) ||
      !ReadIdentity(&reader, &record->owner) || !reader.Expect(";cmd=") ||
      !reader.Escaped(&record->owner.command) || !reader.Expect(kTerminator) || !reader.AtEnd()) {
    return Malformed(reader);
  }
  return {};
}

}  // namespace onlyone
