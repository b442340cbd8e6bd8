// Ogg pages and Ogg Opus streams: never crash, and stay within their limits. The input is
// read three ways: as pages one after another (each page that parses is written back to the
// same bytes), through the byte-fed page parser and packet assembler in chunks whose sizes
// the input picks, and as an Ogg Opus file in memory.
//
// When the first byte is odd, the CRC of every page-shaped run of bytes is fixed first, so
// that the fuzzer reaches past the CRC check.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "media/ogg.hpp"

using namespace rtcpp;
using namespace rtcpp::media;

namespace {

void fix_crcs(Buffer& bytes) {
  std::size_t at = 1;
  while (bytes.size() - at >= kOggPageHeaderSize) {
    const std::uint8_t* p = bytes.data() + at;
    if (p[0] != 'O' || p[1] != 'g' || p[2] != 'g' || p[3] != 'S') {
      ++at;
      continue;
    }
    const std::size_t segments = p[26];
    if (bytes.size() - at < kOggPageHeaderSize + segments) return;
    std::size_t size = kOggPageHeaderSize + segments;
    for (std::size_t i = 0; i < segments; ++i) size += p[kOggPageHeaderSize + i];
    if (bytes.size() - at < size) return;
    for (std::size_t i = 22; i < 26; ++i) bytes[at + i] = 0;
    const std::uint32_t crc = ogg_crc(bytes.view().subspan(at, size));
    for (std::size_t i = 0; i < 4; ++i)
      bytes[at + 22 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
    at += size;
  }
}

void check_pages(BytesView input) {
  while (!input.empty()) {
    auto page = parse_ogg_page(input);
    if (!page) return;
    if (page->size > kMaxOggPageSize || page->size > input.size()) std::abort();
    Buffer again;
    if (!write_ogg_page(page->header, page->segment_table, page->body, again)) std::abort();
    // Header type bits beyond the three known are not kept.
    if (again.size() != page->size) std::abort();
    for (std::size_t i = 0; i < again.size(); ++i) {
      if (i != 5 && i != 22 && i != 23 && i != 24 && i != 25 && again[i] != input[i]) std::abort();
    }
    input = input.subspan(page->size);
  }
}

void check_assembler(BytesView input, std::uint8_t chunk_seed) {
  OggPageParser parser;
  OggPacketAssembler assembler;
  std::size_t chunk = 1 + chunk_seed % 64;
  while (!input.empty()) {
    auto used = parser.feed(input.first(std::min(chunk, input.size())));
    if (!used) return;
    input = input.subspan(*used);
    chunk = chunk * 3 % 97 + 1;
    if (!parser.page_ready()) {
      if (*used == 0) std::abort();  // took nothing, yet no page is waiting
      continue;
    }
    auto page = parser.take_page();
    if (!page) return;
    if (!assembler.push_page(*page)) return;
    while (auto packet = assembler.next_packet()) {
      if (packet->data.size() > kMaxOggPacketSize) std::abort();
    }
  }
}

void check_opus(BytesView input) {
  auto parser = OggOpusParser::open(input);
  if (!parser) return;
  if (parser->head().channels == 0) std::abort();
  std::uint64_t timestamp = 0;
  for (std::size_t packets = 0; packets <= input.size(); ++packets) {
    auto packet = parser->next_packet();
    if (!packet || !*packet) return;
    const OggOpusPacket& p = **packet;
    if (p.data.empty() || p.data.size() > kMaxOggPacketSize) std::abort();
    if (p.samples == 0 || p.samples > 5760 || p.timestamp != timestamp) std::abort();
    timestamp += p.samples;
  }
  std::abort();  // more packets than input bytes
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Buffer bytes(BytesView(data, size));
  if ((data[0] & 1) != 0) fix_crcs(bytes);
  const BytesView input = bytes.view().subspan(1);
  check_pages(input);
  check_assembler(input, data[0]);
  check_opus(input);
  return 0;
}
