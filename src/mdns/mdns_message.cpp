#include "mdns/mdns_message.hpp"

#include <array>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::mdns {
namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kClassIn = 1;
// RFC 6762 5.4: the top bit of a question's class asks for a unicast response; 10.2: the top
// bit of a record's class is the cache-flush bit.
constexpr std::uint16_t kUnicastResponse = 0x8000;
constexpr std::uint16_t kClassMask = 0x7FFF;
constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxNameLength = 255;

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Reads a (possibly compressed, RFC 1035 4.1.4) name starting at `at` in `message`; returns
// the offset just after the name where it was first written.
Expected<std::size_t, MdnsError> read_name(BytesView message, std::size_t at, std::string& out) {
  out.clear();
  std::size_t position = at;
  std::optional<std::size_t> end;  // after the first pointer
  int jumps = 0;
  while (true) {
    if (position >= message.size()) return MdnsError::kMalformed;
    const std::uint8_t length = message[position];
    if ((length & 0xC0) == 0xC0) {
      if (position + 1 >= message.size()) return MdnsError::kMalformed;
      const std::size_t target =
          (static_cast<std::size_t>(length & 0x3F) << 8) | message[position + 1];
      // Pointers must go backwards, and only so often: no loops.
      if (target >= position || ++jumps > kMaxPointerJumps) return MdnsError::kMalformed;
      if (!end) end = position + 2;
      position = target;
      continue;
    }
    if ((length & 0xC0) != 0) return MdnsError::kMalformed;  // reserved label types
    if (length == 0) {
      if (!end) end = position + 1;
      return *end;
    }
    if (position + 1 + length > message.size()) return MdnsError::kMalformed;
    if (!out.empty()) out.push_back('.');
    for (std::size_t i = 0; i < length; ++i)
      out.push_back(lower(static_cast<char>(message[position + 1 + i])));
    if (out.size() > kMaxNameLength) return MdnsError::kMalformed;
    position += 1 + length;
  }
}

}  // namespace

bool is_local_hostname(std::string_view name) noexcept {
  constexpr std::string_view kSuffix = ".local";
  if (name.size() <= kSuffix.size() || name.size() > 253) return false;
  // DNS names compare without regard to case (RFC 1035 2.3.3).
  for (std::size_t i = 0; i < kSuffix.size(); ++i) {
    if (lower(name[name.size() - kSuffix.size() + i]) != kSuffix[i]) return false;
  }
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

Result<Buffer> build_query(std::string_view name, std::uint16_t id) {
  if (!is_local_hostname(name)) return invalid_access_error("not an mDNS .local name");
  Buffer out;
  ByteWriter w(out);
  w.write_u16(id);
  w.write_u16(0);  // a standard query
  w.write_u16(2);  // questions: A and AAAA
  w.write_u16(0);
  w.write_u16(0);
  w.write_u16(0);
  for (const std::uint16_t type : {kTypeA, kTypeAaaa}) {
    std::size_t start = 0;
    while (start <= name.size()) {
      std::size_t dot = name.find('.', start);
      if (dot == std::string_view::npos) dot = name.size();
      w.write_u8(static_cast<std::uint8_t>(dot - start));
      w.write_bytes(as_bytes(name.substr(start, dot - start)));
      start = dot + 1;
    }
    w.write_u8(0);
    w.write_u16(type);
    w.write_u16(kClassIn | kUnicastResponse);
  }
  return out;
}

Expected<std::vector<AddressRecord>, MdnsError> parse_response(BytesView message) {
  ByteReader header(message);
  const auto id = header.read_u16();
  const auto flags = header.read_u16();
  const auto questions = header.read_u16();
  const auto answers = header.read_u16();
  const auto authority = header.read_u16();
  const auto additional = header.read_u16();
  if (!id || !flags || !questions || !answers || !authority || !additional)
    return MdnsError::kMalformed;
  if ((*flags & 0x8000) == 0) return MdnsError::kNotResponse;
  const std::size_t records = std::size_t{*answers} + *authority + *additional;
  if (*questions > kMaxRecords || records > kMaxRecords) return MdnsError::kMalformed;
  std::size_t at = kHeaderSize;
  std::string name;
  for (std::size_t q = 0; q < *questions; ++q) {
    auto after = read_name(message, at, name);
    if (!after) return after.error();
    at = *after + 4;  // type and class
    if (at > message.size()) return MdnsError::kMalformed;
  }
  std::vector<AddressRecord> out;
  for (std::size_t r = 0; r < records; ++r) {
    auto after = read_name(message, at, name);
    if (!after) return after.error();
    ByteReader fields(message.subspan(*after));
    const auto type = fields.read_u16();
    const auto klass = fields.read_u16();
    const auto ttl = fields.read_u32();
    const auto length = fields.read_u16();
    if (!type || !klass || !ttl || !length) return MdnsError::kMalformed;
    const auto data = fields.read_bytes(*length);
    if (!data) return MdnsError::kMalformed;
    at = *after + 10 + *length;
    if ((*klass & kClassMask) != kClassIn) continue;
    if (*type == kTypeA && data->size() == 4) {
      const std::uint32_t v4 = (std::uint32_t{(*data)[0]} << 24) |
                               (std::uint32_t{(*data)[1]} << 16) |
                               (std::uint32_t{(*data)[2]} << 8) | (*data)[3];
      out.push_back({name, IpAddress::v4(v4), *ttl});
    } else if (*type == kTypeAaaa && data->size() == 16) {
      std::array<std::uint8_t, 16> bytes{};
      std::copy(data->begin(), data->end(), bytes.begin());
      out.push_back({name, IpAddress::v6(bytes), *ttl});
    }
  }
  return out;
}

}  // namespace rtcpp::mdns
