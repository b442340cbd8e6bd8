#include "media/ogg.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "common/temp_files.hpp"
#include "rtp/opus.hpp"

namespace rtcpp::media {
namespace {

using test_support::read_file;
using test_support::TempDir;
using test_support::write_file;

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

// The first page of tests/data/sine_opus.ogg, which ffmpeg 5.1 wrote for
//   ffmpeg -f lavfi -i sine=frequency=440:duration=1 -c:a libopus -b:a 32k sine_opus.ogg
// (51 packets of 20 ms, mono, pre-skip 312; ffprobe -count_packets says 51): the BOS page
// with the OpusHead packet, its CRC 0xdd748888.
const char* const kFfmpegHeadPage =
    "4f676753 00 02 0000000000000000 05ced72b 00000000 888874dd 01 13"
    "4f707573486561640101380180bb0000000000";

std::string fixture() {
  return std::string(RTCPP_TEST_DATA_DIR) + "/sine_opus.ogg";
}

std::vector<OggPage> pages_of(BytesView file) {
  std::vector<OggPage> pages;
  while (!file.empty()) {
    auto page = parse_ogg_page(file);
    EXPECT_TRUE(page);
    if (!page) break;
    pages.push_back(*page);
    file = file.subspan(page->size);
  }
  return pages;
}

Buffer filled(std::size_t size, std::uint8_t seed) {
  Buffer out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

// A page of one stream (serial 1) with the given laces and body.
Buffer page(std::uint32_t sequence, std::vector<std::uint8_t> laces, BytesView body,
            bool continued = false, bool bos = false, bool eos = false, std::uint64_t granule = 0,
            std::uint32_t serial = 1) {
  OggPageHeader header;
  header.continued = continued;
  header.bos = bos;
  header.eos = eos;
  header.granule_position = granule;
  header.serial = serial;
  header.sequence = sequence;
  Buffer out;
  EXPECT_TRUE(write_ogg_page(header, laces, body, out));
  return out;
}

std::vector<std::uint8_t> laces_for(std::size_t size) {
  std::vector<std::uint8_t> laces(size / 255, 255);
  laces.push_back(static_cast<std::uint8_t>(size % 255));
  return laces;
}

TEST(OggPage, ChecksTheCrcOfAPageFfmpegWrote) {
  const Buffer bytes = hex(kFfmpegHeadPage);
  auto parsed = parse_ogg_page(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size, bytes.size());
  EXPECT_TRUE(parsed->header.bos);
  EXPECT_FALSE(parsed->header.eos);
  EXPECT_FALSE(parsed->header.continued);
  EXPECT_EQ(parsed->header.granule_position, 0u);
  EXPECT_EQ(parsed->header.serial, 0x2bd7ce05u);
  EXPECT_EQ(parsed->header.sequence, 0u);
  EXPECT_EQ(parsed->body.size(), 19u);
  // The CRC over the page with its field zeroed.
  Buffer zeroed = bytes;
  for (int i = 22; i < 26; ++i) zeroed[i] = 0;
  EXPECT_EQ(ogg_crc(zeroed), 0xdd748888u);
  // Written back byte for byte.
  Buffer out;
  ASSERT_TRUE(write_ogg_page(parsed->header, parsed->segment_table, parsed->body, out));
  EXPECT_EQ(out, bytes);

  auto head = parse_opus_head(parsed->body);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->version, 1);
  EXPECT_EQ(head->channels, 1);
  EXPECT_EQ(head->pre_skip, 312);
  EXPECT_EQ(head->input_sample_rate, 48000u);
  EXPECT_EQ(head->output_gain, 0);
  EXPECT_EQ(head->mapping_family, 0);
}

TEST(OggPage, RefusesBadPages) {
  const Buffer bytes = hex(kFfmpegHeadPage);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    Buffer corrupt = bytes;
    corrupt[i] ^= 0x10;
    auto parsed = parse_ogg_page(corrupt);
    ASSERT_FALSE(parsed) << i;
    if (i < 4) {
      EXPECT_EQ(parsed.error(), OggError::kBadCapture);
    } else if (i == 4) {
      EXPECT_EQ(parsed.error(), OggError::kBadVersion);
    } else if (i != 26 && i != 27) {
      EXPECT_EQ(parsed.error(), OggError::kBadCrc) << i;
    }
  }
  for (std::size_t size = 4; size < bytes.size(); ++size)
    EXPECT_EQ(parse_ogg_page(BytesView(bytes).first(size)).error(), OggError::kTruncated);
  // A segment table that does not describe the body is not written.
  Buffer out;
  EXPECT_FALSE(write_ogg_page(OggPageHeader{}, std::vector<std::uint8_t>{3}, Buffer{1, 2}, out));
  EXPECT_TRUE(out.empty());
}

TEST(OggPageParser, CutsAStreamFedByteByByte) {
  const Buffer file = read_file(fixture());
  ASSERT_FALSE(file.empty());
  OggPageParser parser;
  std::size_t pages = 0;
  for (std::size_t i = 0; i < file.size();) {
    auto used = parser.feed(BytesView(file).subspan(i, 1));
    ASSERT_TRUE(used);
    i += *used;
    if (parser.page_ready()) {
      ASSERT_TRUE(parser.take_page());
      ++pages;
    }
  }
  EXPECT_EQ(pages, 4u);
  EXPECT_FALSE(parser.mid_page());

  OggPageParser bad;
  EXPECT_EQ(bad.feed(as_bytes("OggT000000000000000000000000000")).error(), OggError::kBadCapture);
  EXPECT_FALSE(bad.feed(file));
}

TEST(OggPacketAssembler, LacesPacketsOfEverySize) {
  // 0, 1, 254, 255 (ends with a 0 lace), 256 and 510 (255 + 255 + 0) bytes on one page.
  const std::vector<std::size_t> sizes = {0, 1, 254, 255, 256, 510};
  std::vector<std::uint8_t> laces;
  Buffer body;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto packet_laces = laces_for(sizes[i]);
    EXPECT_EQ(packet_laces.size(), ogg_lace_count(sizes[i]));
    laces.insert(laces.end(), packet_laces.begin(), packet_laces.end());
    body.append(filled(sizes[i], static_cast<std::uint8_t>(i)));
  }
  EXPECT_EQ(laces_for(255), (std::vector<std::uint8_t>{255, 0}));
  EXPECT_EQ(laces_for(510), (std::vector<std::uint8_t>{255, 255, 0}));
  const Buffer bytes = page(0, laces, body, false, true, false, 1234);
  auto parsed = parse_ogg_page(bytes);
  ASSERT_TRUE(parsed);
  OggPacketAssembler assembler;
  ASSERT_TRUE(assembler.push_page(*parsed));
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto packet = assembler.next_packet();
    ASSERT_TRUE(packet) << i;
    EXPECT_TRUE(equal_bytes(packet->data, filled(sizes[i], static_cast<std::uint8_t>(i)))) << i;
    EXPECT_EQ(packet->last_on_page, i + 1 == sizes.size());
    EXPECT_EQ(packet->granule_position, i + 1 == sizes.size() ? 1234u : kOggNoGranule);
  }
  EXPECT_FALSE(assembler.next_packet());
  EXPECT_FALSE(assembler.packet_in_progress());
}

TEST(OggPacketAssembler, JoinsAPacketSpanningPages) {
  const Buffer packet = filled(600, 3);
  // Page 0: the first 510 bytes (two 255 laces, no packet ends: granule -1); page 1: the rest
  // and a small packet.
  const Buffer first =
      page(0, {255, 255}, BytesView(packet).first(510), false, true, false, kOggNoGranule);
  Buffer rest(BytesView(packet).subspan(510));
  rest.append(Buffer{9, 9});
  const Buffer second = page(1, {90, 2}, rest, true, false, true, 960);
  OggPacketAssembler assembler;
  ASSERT_TRUE(assembler.push_page(*parse_ogg_page(first)));
  EXPECT_FALSE(assembler.next_packet());
  EXPECT_TRUE(assembler.packet_in_progress());
  ASSERT_TRUE(assembler.push_page(*parse_ogg_page(second)));
  auto joined = assembler.next_packet();
  ASSERT_TRUE(joined);
  EXPECT_TRUE(equal_bytes(joined->data, packet));
  EXPECT_FALSE(joined->last_on_page);
  auto small = assembler.next_packet();
  ASSERT_TRUE(small);
  EXPECT_EQ(small->data.size(), 2u);
  EXPECT_EQ(small->granule_position, 960u);
  EXPECT_TRUE(assembler.ended());
  // Nothing after EOS.
  EXPECT_EQ(assembler.push_page(*parse_ogg_page(page(2, {1}, Buffer{1}))).error(),
            OggError::kAfterEnd);
}

OggError assembler_error(const std::vector<Buffer>& pages) {
  OggPacketAssembler assembler;
  for (const Buffer& bytes : pages) {
    auto parsed = parse_ogg_page(bytes);
    EXPECT_TRUE(parsed);
    auto pushed = assembler.push_page(*parsed);
    if (!pushed) return pushed.error();
  }
  ADD_FAILURE() << "no error";
  return OggError::kIo;
}

TEST(OggPacketAssembler, RefusesPagesThatDoNotJoinUp) {
  const Buffer one{1};
  const Buffer full = filled(255, 0);
  // A continued page with nothing to continue; a packet cut short by a fresh page.
  EXPECT_EQ(assembler_error({page(0, {1}, one, true)}), OggError::kBadContinuation);
  EXPECT_EQ(assembler_error({page(0, {255}, full), page(1, {1}, one)}), OggError::kBadContinuation);
  // A page lost (sequence 0 then 2), or repeated.
  EXPECT_EQ(assembler_error({page(0, {1}, one), page(2, {1}, one)}), OggError::kBadSequence);
  EXPECT_EQ(assembler_error({page(0, {1}, one), page(0, {1}, one)}), OggError::kBadSequence);
  // Another logical stream, or a second BOS.
  EXPECT_EQ(assembler_error(
                {page(0, {1}, one, false, true), page(0, {1}, one, false, true, false, 0, 2)}),
            OggError::kSecondStream);
  EXPECT_EQ(assembler_error({page(0, {1}, one, false, true), page(1, {1}, one, false, true)}),
            OggError::kSecondStream);
  // A packet cut short by EOS.
  EXPECT_EQ(assembler_error({page(0, {255}, full, false, false, true)}),
            OggError::kBadContinuation);
}

TEST(OggPacketAssembler, LimitsPacketSizeAndPageSpan) {
  // Full pages of 255 laces of 255 bytes: 65025 bytes each; 1 MiB is passed on the 17th.
  const Buffer body = filled(255 * 255, 1);
  const std::vector<std::uint8_t> laces(255, 255);
  std::vector<Buffer> pages;
  for (std::uint32_t i = 0; i < 17; ++i) pages.push_back(page(i, laces, body, i > 0));
  EXPECT_EQ(assembler_error(pages), OggError::kPacketTooLarge);
  // Pages of one 255 lace each: the 33rd page of one packet is too many.
  pages.clear();
  const Buffer lace = filled(255, 2);
  for (std::uint32_t i = 0; i < kMaxOggPagesPerPacket + 1; ++i)
    pages.push_back(page(i, {255}, lace, i > 0));
  EXPECT_EQ(assembler_error(pages), OggError::kTooManyPages);
}

TEST(OggOpusFileReader, ReadsTheFfmpegFixture) {
  auto reader = OggOpusFileReader::open(fixture());
  ASSERT_TRUE(reader) << to_string(reader.error());
  EXPECT_EQ(reader->head().channels, 1);
  EXPECT_EQ(reader->head().pre_skip, 312);
  Buffer data;
  std::size_t packets = 0;
  std::uint64_t samples = 0;
  for (;;) {
    auto packet = reader->next_packet(data);
    ASSERT_TRUE(packet) << to_string(packet.error());
    if (!*packet) break;
    EXPECT_EQ((*packet)->timestamp, samples);
    EXPECT_EQ((*packet)->samples, 960u);
    EXPECT_EQ((*packet)->data.size(), data.size());
    samples += (*packet)->samples;
    ++packets;
  }
  // ffprobe -count_packets: 51 packets of 20 ms (its durations add up to 48312 only because
  // it takes off the pre-skip and the end trimming of the last granule position).
  EXPECT_EQ(packets, 51u);
  EXPECT_EQ(samples, 51u * 960);
}

// Reads every packet of an in-memory file (its error, if any).
Expected<std::vector<Buffer>, OggError> parse_all(BytesView file) {
  auto parser = OggOpusParser::open(file);
  if (!parser) return parser.error();
  std::vector<Buffer> packets;
  for (;;) {
    auto packet = parser->next_packet();
    if (!packet) return packet.error();
    if (!*packet) return packets;
    packets.emplace_back((*packet)->data);
  }
}

TEST(OggOpusFileWriter, RoundTripsTheFixture) {
  TempDir dir("ogg");
  const std::string copy = dir.file("copy.ogg");
  std::vector<Buffer> originals;
  {
    auto reader = OggOpusFileReader::open(fixture());
    ASSERT_TRUE(reader);
    auto writer = OggOpusFileWriter::create(copy, reader->head().channels, reader->head().pre_skip);
    ASSERT_TRUE(writer);
    Buffer data;
    while (auto packet = reader->next_packet(data)) {
      if (!*packet) break;
      originals.emplace_back(data);
      ASSERT_TRUE(writer->write_packet(data));
    }
    EXPECT_EQ(writer->granule_position(), 51u * 960);
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(writer->close().error(), OggError::kClosed);
    EXPECT_EQ(writer->write_packet(originals[0]).error(), OggError::kClosed);
  }
  const Buffer file = read_file(copy);
  auto copied = parse_all(file);
  ASSERT_TRUE(copied);
  ASSERT_EQ(copied->size(), originals.size());
  for (std::size_t i = 0; i < originals.size(); ++i) EXPECT_EQ((*copied)[i], originals[i]) << i;

  // Head, tags, a page at 1 s (50 packets), the last packet on the EOS page.
  const auto pages = pages_of(file);
  ASSERT_EQ(pages.size(), 4u);
  EXPECT_TRUE(pages[0].header.bos);
  EXPECT_EQ(pages[1].header.granule_position, 0u);
  EXPECT_EQ(pages[2].header.granule_position, 48000u);
  EXPECT_EQ(pages[2].segment_table.size(), 50u);
  EXPECT_TRUE(pages[3].header.eos);
  EXPECT_EQ(pages[3].header.granule_position, 51u * 960);
  for (std::size_t i = 0; i < pages.size(); ++i) EXPECT_EQ(pages[i].header.sequence, i);
  auto head = parse_opus_head(pages[0].body);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->pre_skip, 312);
  EXPECT_TRUE(check_opus_tags(pages[1].body));
  EXPECT_NE(as_string(pages[1].body).find("rtcpp"), std::string_view::npos);
}

TEST(OggOpusFileWriter, SpreadsLargePacketsOverPages) {
  // A code 3 CBR packet of 48 frames of 1275 bytes (2.5 ms each: 120 ms), 61202 bytes: past
  // kPageBytes, so each goes on a page of its own.
  Buffer big;
  big.push_back(static_cast<std::uint8_t>(16 << 3 | 3));
  big.push_back(48);
  big.append(filled(48 * 1275, 5));
  // Padding makes a valid packet larger than a page (255 laces, 65025 bytes): one 10-byte
  // frame and 100000 bytes of padding (393 length bytes of 255 add 254 each, then 178).
  Buffer padded;
  padded.push_back(static_cast<std::uint8_t>(31 << 3 | 3));
  padded.push_back(0x41);
  for (int i = 0; i < 393; ++i) padded.push_back(255);
  padded.push_back(178);
  padded.append(filled(10 + 100000, 6));
  ASSERT_EQ(rtp::opus_packet_samples(padded).value_or(0), 960u);
  TempDir dir("ogg");
  const std::string path = dir.file("big.ogg");
  {
    auto writer = OggOpusFileWriter::create(path, 2, 0);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write_packet(big));
    ASSERT_TRUE(writer->write_packet(padded));
    ASSERT_TRUE(writer->write_packet(big));
    EXPECT_EQ(writer->write_packet({}).error(), OggError::kBadOpusPacket);
  }  // closed by the destructor
  const Buffer file = read_file(path);
  auto packets = parse_all(file);
  ASSERT_TRUE(packets) << to_string(packets.error());
  ASSERT_EQ(packets->size(), 3u);
  EXPECT_EQ((*packets)[0], big);
  EXPECT_EQ((*packets)[1], padded);
  EXPECT_EQ((*packets)[2], big);
  // Head, tags, big, padded (255 laces, no packet ends: granule -1), its rest, big with EOS.
  const auto pages = pages_of(file);
  ASSERT_EQ(pages.size(), 6u);
  EXPECT_EQ(pages[2].header.granule_position, 5760u);
  EXPECT_EQ(pages[3].segment_table.size(), 255u);
  EXPECT_EQ(pages[3].header.granule_position, kOggNoGranule);
  EXPECT_TRUE(pages[4].header.continued);
  EXPECT_EQ(pages[4].header.granule_position, 5760u + 960);
  EXPECT_TRUE(pages[5].header.eos);
  EXPECT_EQ(pages[5].header.granule_position, 2u * 5760 + 960);
}

TEST(OggOpusParser, RefusesBrokenFiles) {
  const Buffer file = read_file(fixture());
  ASSERT_FALSE(file.empty());
  ASSERT_TRUE(parse_all(file));
  const auto pages = pages_of(file);
  ASSERT_EQ(pages.size(), 4u);
  auto join = [&](std::initializer_list<BytesView> parts) {
    Buffer out;
    for (BytesView part : parts) out.append(part);
    return out;
  };
  auto bytes_of = [&](std::size_t i) {
    std::size_t offset = 0;
    for (std::size_t j = 0; j < i; ++j) offset += pages[j].size;
    return BytesView(file).subspan(offset, pages[i].size);
  };
  // A bad CRC anywhere.
  Buffer corrupt = file;
  corrupt[file.size() - 10] ^= 1;
  EXPECT_EQ(parse_all(corrupt).error(), OggError::kBadCrc);
  // Cut inside a page.
  EXPECT_EQ(parse_all(BytesView(file).first(file.size() - 10)).error(), OggError::kTruncated);
  EXPECT_EQ(parse_all(BytesView(file).first(20)).error(), OggError::kTruncated);
  // No OpusHead: an empty file, or starting with the tags page.
  EXPECT_EQ(parse_all({}).error(), OggError::kNoOpusHead);
  EXPECT_EQ(parse_all(bytes_of(1)).error(), OggError::kNoOpusHead);
  // The OpusHead page alone: no OpusTags.
  EXPECT_EQ(parse_all(bytes_of(0)).error(), OggError::kNoOpusTags);
  // A second logical stream's BOS page in the middle.
  const Buffer other = page(0, {19}, pages[0].body, false, true, false, 0, 77);
  EXPECT_EQ(parse_all(join({bytes_of(0), bytes_of(1), other, bytes_of(2)})).error(),
            OggError::kSecondStream);
  // A page missing.
  EXPECT_EQ(parse_all(join({bytes_of(0), bytes_of(1), bytes_of(3)})).error(),
            OggError::kBadSequence);
  // Not Ogg at all.
  EXPECT_EQ(parse_all(as_bytes("RIFF0000WAVEfmt xxxxxxxxxxxxxxxxxxxxxxxx")).error(),
            OggError::kBadCapture);
  // An audio packet that is not Opus (an empty packet).
  const Buffer empty_packet = page(2, {0}, {}, false, false, true, 0, pages[0].header.serial);
  EXPECT_EQ(parse_all(join({bytes_of(0), bytes_of(1), empty_packet})).error(),
            OggError::kBadOpusPacket);
}

TEST(OggOpusFileReader, ReportsErrorsLikeTheIvfReader) {
  EXPECT_EQ(OggOpusFileReader::open("/nonexistent/x.ogg").error(), OggError::kIo);
  TempDir dir("ogg");
  const std::string path = dir.file("bad.ogg");
  Buffer file = read_file(fixture());
  file[60] ^= 0x40;  // inside the OpusTags page
  write_file(path, file);
  EXPECT_EQ(OggOpusFileReader::open(path).error(), OggError::kBadCrc);
  file = read_file(fixture());
  file[file.size() - 1] ^= 0x40;  // the last page
  write_file(path, file);
  auto reader = OggOpusFileReader::open(path);
  ASSERT_TRUE(reader);
  Buffer data;
  Expected<std::optional<OggOpusPacket>, OggError> packet = std::optional<OggOpusPacket>{};
  while ((packet = reader->next_packet(data)) && *packet) {
  }
  ASSERT_FALSE(packet);
  EXPECT_EQ(packet.error(), OggError::kBadCrc);
}

TEST(OpusHeader, ParsesMappingFamilies) {
  OpusHead surround;
  surround.channels = 6;
  surround.pre_skip = 3840;
  surround.input_sample_rate = 44100;
  surround.output_gain = -256;
  surround.mapping_family = 1;
  surround.stream_count = 4;
  surround.coupled_count = 2;
  surround.channel_mapping = {0, 4, 1, 2, 3, 5};
  Buffer bytes;
  write_opus_head(surround, bytes);
  EXPECT_EQ(bytes.size(), 21u + 6);
  auto parsed = parse_opus_head(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, surround);

  Buffer bad_index = bytes;
  bad_index[21] = 6;  // only 6 decoded channels (4 + 2): indexes 0-5, or 255
  EXPECT_EQ(parse_opus_head(bad_index).error(), OggError::kBadOpusHead);
  bad_index[21] = 255;
  EXPECT_TRUE(parse_opus_head(bad_index));
  EXPECT_EQ(parse_opus_head(BytesView(bytes).first(26)).error(), OggError::kBadOpusHead);
  Buffer family2 = bytes;
  family2[18] = 2;
  EXPECT_EQ(parse_opus_head(family2).error(), OggError::kUnsupportedMapping);
  Buffer version16 = bytes;
  version16[8] = 16;
  EXPECT_EQ(parse_opus_head(version16).error(), OggError::kBadOpusHead);

  OpusHead three;
  three.channels = 3;
  Buffer family0;
  write_opus_head(three, family0);
  EXPECT_EQ(parse_opus_head(family0).error(), OggError::kBadOpusHead);
  EXPECT_EQ(parse_opus_head(BytesView(family0).first(18)).error(), OggError::kBadOpusHead);
  EXPECT_EQ(parse_opus_head(as_bytes("OpusTags")).error(), OggError::kNoOpusHead);
}

TEST(OpusHeader, ChecksOpusTags) {
  Buffer tags;
  write_opus_tags(tags);
  EXPECT_TRUE(check_opus_tags(tags));
  // vendor "v", two comments.
  const Buffer two = hex("4f70757354616773 01000000 76 02000000 03000000 613d62 00000000");
  EXPECT_TRUE(check_opus_tags(two));
  EXPECT_EQ(check_opus_tags(BytesView(two).first(two.size() - 1)).error(), OggError::kBadOpusTags);
  const Buffer huge_count = hex("4f70757354616773 00000000 ffffffff");
  EXPECT_EQ(check_opus_tags(huge_count).error(), OggError::kBadOpusTags);
  const Buffer long_vendor = hex("4f70757354616773 05000000 7676");
  EXPECT_EQ(check_opus_tags(long_vendor).error(), OggError::kBadOpusTags);
  EXPECT_EQ(check_opus_tags(as_bytes("OpusHead")).error(), OggError::kNoOpusTags);
}

}  // namespace
}  // namespace rtcpp::media
