// Drives ByteReader with an input-chosen sequence of operations over the input itself: every
// read must stay inside the input and keep position <= size, whatever the lengths ask for.
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

using rtcpp::ByteReader;
using rtcpp::BytesView;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteReader reader(BytesView(data, size));
  std::uint8_t scratch[16];
  std::size_t steps = 0;
  while (!reader.empty() && steps++ < 4096) {
    const std::uint8_t op = *reader.read_u8();
    const std::size_t before = reader.position();
    bool ok = true;
    switch (op % 12) {
      case 0:
        ok = reader.read_u16().has_value();
        break;
      case 1:
        ok = reader.read_u24().has_value();
        break;
      case 2:
        ok = reader.read_u32().has_value();
        break;
      case 3:
        ok = reader.read_u48().has_value();
        break;
      case 4:
        ok = reader.read_u64().has_value();
        break;
      case 5: {  // a TLV-style length-prefixed field, the shape every protocol parser uses
        auto length = reader.read_u16();
        if (!length) break;
        auto sub = reader.sub_reader(*length);
        if (sub && sub->remaining() != *length) std::abort();
        break;
      }
      case 6:
        ok = reader.skip(op >> 4).has_value();
        break;
      case 7:
        ok = reader.align(std::size_t{1} << (op >> 6)).has_value();
        break;
      case 8:
        ok = reader.read_into(rtcpp::MutableBytesView(scratch, op % 17)).has_value();
        break;
      case 9:
        ok = reader.peek_u8().has_value();
        break;
      case 10:
        ok = reader.read_bytes(static_cast<std::size_t>(op) << 2).has_value();
        break;
      default: {  // write what was read back out and compare
        auto bytes = reader.read_bytes(op % 9);
        if (!bytes) break;
        rtcpp::Buffer copy;
        rtcpp::ByteWriter writer(copy);
        if (!writer.write_bytes(*bytes) || !rtcpp::equal_bytes(copy, *bytes)) std::abort();
      }
    }
    if (!ok && reader.position() != before) std::abort();  // failed reads consume nothing
    if (reader.position() > size) std::abort();
  }
  return 0;
}
