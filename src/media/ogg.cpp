#include "media/ogg.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "rtp/opus.hpp"

namespace rtcpp::media {

std::string_view to_string(OggError error) noexcept {
  switch (error) {
    case OggError::kTruncated:
      return "Ogg input ends inside a page or before the headers";
    case OggError::kBadCapture:
      return "no Ogg page (OggS) where one should start";
    case OggError::kBadVersion:
      return "Ogg page version is not 0";
    case OggError::kBadCrc:
      return "Ogg page CRC mismatch";
    case OggError::kBadSequence:
      return "Ogg page sequence number out of order";
    case OggError::kBadContinuation:
      return "Ogg packet continuation does not join up";
    case OggError::kPacketTooLarge:
      return "Ogg packet too large";
    case OggError::kTooManyPages:
      return "Ogg packet spans too many pages";
    case OggError::kSecondStream:
      return "a second Ogg logical stream";
    case OggError::kAfterEnd:
      return "Ogg page after the end of stream";
    case OggError::kNoOpusHead:
      return "Ogg stream does not start with an OpusHead page";
    case OggError::kBadOpusHead:
      return "bad OpusHead";
    case OggError::kUnsupportedMapping:
      return "unsupported Opus channel mapping family";
    case OggError::kNoOpusTags:
      return "no OpusTags page after OpusHead";
    case OggError::kBadOpusTags:
      return "bad OpusTags";
    case OggError::kBadOpusPacket:
      return "invalid Opus packet";
    case OggError::kIo:
      return "Ogg file input/output failed";
    case OggError::kClosed:
      return "Ogg writer closed";
  }
  return "unknown Ogg error";
}

namespace {

constexpr std::uint8_t kContinuedFlag = 0x01;
constexpr std::uint8_t kBosFlag = 0x02;
constexpr std::uint8_t kEosFlag = 0x04;
constexpr std::size_t kCrcOffset = 22;
constexpr std::size_t kSegmentCountOffset = 26;
constexpr std::string_view kCapturePattern = "OggS";
constexpr std::string_view kOpusHeadMagic = "OpusHead";
constexpr std::string_view kOpusTagsMagic = "OpusTags";

// RFC 3533 6: the CRC-32 with generator 0x04c11db7, MSB first, no reflection.
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i << 24;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x80000000u) != 0 ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

std::uint16_t get_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
std::uint64_t get_le64(const std::uint8_t* p) {
  return std::uint64_t{get_le32(p)} | (std::uint64_t{get_le32(p + 4)} << 32);
}
void put_le(Buffer& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
bool starts_with(BytesView bytes, std::string_view magic) {
  return bytes.size() >= magic.size() && std::memcmp(bytes.data(), magic.data(), magic.size()) == 0;
}

}  // namespace

std::uint32_t ogg_crc(BytesView data, std::uint32_t crc) noexcept {
  for (const std::uint8_t byte : data) crc = (crc << 8) ^ kCrcTable[((crc >> 24) ^ byte) & 0xFF];
  return crc;
}

std::size_t ogg_lace_count(std::size_t size) noexcept {
  return size / 255 + 1;
}

// --- Pages ---------------------------------------------------------------------------------

Expected<OggPage, OggError> parse_ogg_page(BytesView input) noexcept {
  if (input.size() >= kCapturePattern.size() && !starts_with(input, kCapturePattern))
    return OggError::kBadCapture;
  if (input.size() < kOggPageHeaderSize) return OggError::kTruncated;
  const std::uint8_t* p = input.data();
  if (p[4] != 0) return OggError::kBadVersion;
  OggPage page;
  page.header.continued = (p[5] & kContinuedFlag) != 0;
  page.header.bos = (p[5] & kBosFlag) != 0;
  page.header.eos = (p[5] & kEosFlag) != 0;
  page.header.granule_position = get_le64(p + 6);
  page.header.serial = get_le32(p + 14);
  page.header.sequence = get_le32(p + 18);
  const std::uint32_t stored_crc = get_le32(p + kCrcOffset);
  const std::size_t segments = p[kSegmentCountOffset];
  if (input.size() < kOggPageHeaderSize + segments) return OggError::kTruncated;
  page.segment_table = input.subspan(kOggPageHeaderSize, segments);
  std::size_t body_size = 0;
  for (const std::uint8_t lace : page.segment_table) body_size += lace;
  const std::size_t header_size = kOggPageHeaderSize + segments;
  if (input.size() - header_size < body_size) return OggError::kTruncated;
  page.body = input.subspan(header_size, body_size);
  page.size = header_size + body_size;
  // The CRC covers the page with its CRC field taken as zero.
  static constexpr std::array<std::uint8_t, 4> kZeros{};
  std::uint32_t crc = ogg_crc(input.first(kCrcOffset));
  crc = ogg_crc(kZeros, crc);
  crc = ogg_crc(input.subspan(kCrcOffset + 4, page.size - kCrcOffset - 4), crc);
  if (crc != stored_crc) return OggError::kBadCrc;
  return page;
}

bool write_ogg_page(const OggPageHeader& header, BytesView segment_table, BytesView body,
                    Buffer& out) {
  if (segment_table.size() > kMaxOggSegments) return false;
  std::size_t body_size = 0;
  for (const std::uint8_t lace : segment_table) body_size += lace;
  if (body_size != body.size()) return false;
  const std::size_t start = out.size();
  out.append(as_bytes(kCapturePattern));
  out.push_back(0);  // version
  out.push_back(static_cast<std::uint8_t>((header.continued ? kContinuedFlag : 0) |
                                          (header.bos ? kBosFlag : 0) |
                                          (header.eos ? kEosFlag : 0)));
  put_le(out, header.granule_position, 8);
  put_le(out, header.serial, 4);
  put_le(out, header.sequence, 4);
  put_le(out, 0, 4);  // the CRC, filled in below
  out.push_back(static_cast<std::uint8_t>(segment_table.size()));
  out.append(segment_table);
  out.append(body);
  const std::uint32_t crc = ogg_crc(out.view().subspan(start));
  for (int i = 0; i < 4; ++i)
    out[start + kCrcOffset + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  return true;
}

std::size_t OggPageParser::needed() const noexcept {
  if (buffer_.size() < kOggPageHeaderSize) return kOggPageHeaderSize;
  const std::size_t segments = buffer_[kSegmentCountOffset];
  if (buffer_.size() < kOggPageHeaderSize + segments) return kOggPageHeaderSize + segments;
  std::size_t body = 0;
  for (std::size_t i = 0; i < segments; ++i) body += buffer_[kOggPageHeaderSize + i];
  return kOggPageHeaderSize + segments + body;
}

Expected<std::size_t, OggError> OggPageParser::feed(BytesView bytes) {
  if (failed_) return OggError::kBadCapture;
  if (ready_) {
    if (!taken_) return std::size_t{0};
    buffer_.clear();
    ready_ = false;
    taken_ = false;
  }
  std::size_t used = 0;
  for (;;) {
    const std::size_t want = needed() - buffer_.size();
    const std::size_t take = std::min(want, bytes.size() - used);
    buffer_.append(bytes.subspan(used, take));
    used += take;
    if (buffer_.size() == kOggPageHeaderSize && take != 0) {
      if (!starts_with(buffer_, kCapturePattern)) {
        failed_ = true;
        return OggError::kBadCapture;
      }
      if (buffer_[4] != 0) {
        failed_ = true;
        return OggError::kBadVersion;
      }
    }
    if (buffer_.size() == needed()) {
      ready_ = true;
      return used;
    }
    if (take == want) continue;  // the header or segment table is in; now what follows
    return used;
  }
}

Expected<OggPage, OggError> OggPageParser::take_page() {
  if (!ready_ || taken_) return OggError::kTruncated;
  taken_ = true;
  auto page = parse_ogg_page(buffer_);
  if (!page) failed_ = true;
  return page;
}

// --- Packets -------------------------------------------------------------------------------

Expected<void, OggError> OggPacketAssembler::push_page(const OggPage& page) {
  if (failed_) return OggError::kBadContinuation;
  auto fail = [this](OggError error) {
    failed_ = true;
    return error;
  };
  completed_.clear();
  spans_.clear();
  next_span_ = 0;
  if (ended_) return fail(OggError::kAfterEnd);
  const OggPageHeader& header = page.header;
  if (serial_ && (header.serial != *serial_ || header.bos)) return fail(OggError::kSecondStream);
  if (pages_ > 0 && header.sequence != static_cast<std::uint32_t>(page_sequence_ + 1))
    return fail(OggError::kBadSequence);
  const bool open = partial_pages_ > 0;
  if (header.continued != open) return fail(OggError::kBadContinuation);
  if (open && ++partial_pages_ > kMaxOggPagesPerPacket) return fail(OggError::kTooManyPages);
  serial_ = header.serial;
  page_sequence_ = header.sequence;
  ++pages_;

  std::size_t offset = 0;
  for (const std::uint8_t lace : page.segment_table) {
    if (partial_pages_ == 0) partial_pages_ = 1;  // a packet starts on this page
    if (partial_.size() + lace > kMaxOggPacketSize) return fail(OggError::kPacketTooLarge);
    partial_.append(page.body.subspan(offset, lace));
    offset += lace;
    if (lace < 255) {
      spans_.push_back(Span{completed_.size(), partial_.size()});
      completed_.append(partial_);
      partial_.clear();
      partial_pages_ = 0;
    }
  }
  granule_ = header.granule_position;
  if (header.eos) {
    ended_ = true;
    if (partial_pages_ > 0) return fail(OggError::kBadContinuation);  // cut short by EOS
  }
  return {};
}

std::optional<OggPacket> OggPacketAssembler::next_packet() {
  if (next_span_ >= spans_.size()) return std::nullopt;
  const Span span = spans_[next_span_++];
  OggPacket packet;
  packet.data = completed_.view().subspan(span.offset, span.size);
  packet.last_on_page = next_span_ == spans_.size();
  packet.granule_position = packet.last_on_page ? granule_ : kOggNoGranule;
  packet.page_sequence = page_sequence_;
  return packet;
}

// --- Ogg Opus headers ----------------------------------------------------------------------

Expected<OpusHead, OggError> parse_opus_head(BytesView packet) {
  if (!starts_with(packet, kOpusHeadMagic)) return OggError::kNoOpusHead;
  if (packet.size() < kOpusHeadMinSize) return OggError::kBadOpusHead;
  const std::uint8_t* p = packet.data();
  OpusHead head;
  head.version = p[8];
  // RFC 7845 5.1: the upper four bits are the major version; only 0 is readable.
  if ((head.version & 0xF0) != 0) return OggError::kBadOpusHead;
  head.channels = p[9];
  if (head.channels == 0) return OggError::kBadOpusHead;
  head.pre_skip = get_le16(p + 10);
  head.input_sample_rate = get_le32(p + 12);
  head.output_gain = static_cast<std::int16_t>(get_le16(p + 16));
  head.mapping_family = p[18];
  switch (head.mapping_family) {
    case 0:
      // RFC 7845 5.1.1.1: mono or stereo, one stream, no table.
      if (head.channels > 2) return OggError::kBadOpusHead;
      head.stream_count = 1;
      head.coupled_count = head.channels == 2 ? 1 : 0;
      return head;
    case 1: {
      // RFC 7845 5.1.1.2: 1 to 8 channels in Vorbis order, with a mapping table.
      if (head.channels > 8) return OggError::kBadOpusHead;
      if (packet.size() < kOpusHeadMinSize + 2 + head.channels) return OggError::kBadOpusHead;
      head.stream_count = p[19];
      head.coupled_count = p[20];
      if (head.stream_count == 0 || head.coupled_count > head.stream_count)
        return OggError::kBadOpusHead;
      const unsigned decoded = unsigned{head.stream_count} + head.coupled_count;
      head.channel_mapping.assign(p + 21, p + 21 + head.channels);
      for (const std::uint8_t index : head.channel_mapping) {
        if (index != 255 && index >= decoded) return OggError::kBadOpusHead;  // 255: silence
      }
      return head;
    }
    default:
      return OggError::kUnsupportedMapping;
  }
}

void write_opus_head(const OpusHead& head, Buffer& out) {
  out.append(as_bytes(kOpusHeadMagic));
  out.push_back(head.version);
  out.push_back(head.channels);
  put_le(out, head.pre_skip, 2);
  put_le(out, head.input_sample_rate, 4);
  put_le(out, static_cast<std::uint16_t>(head.output_gain), 2);
  out.push_back(head.mapping_family);
  if (head.mapping_family != 0) {
    out.push_back(head.stream_count);
    out.push_back(head.coupled_count);
    out.append(head.channel_mapping);
  }
}

Expected<void, OggError> check_opus_tags(BytesView packet) noexcept {
  if (!starts_with(packet, kOpusTagsMagic)) return OggError::kNoOpusTags;
  std::size_t at = kOpusTagsMagic.size();
  // A 32-bit length and that many bytes, within the packet.
  auto skip_string = [&]() -> bool {
    if (packet.size() - at < 4) return false;
    const std::uint32_t length = get_le32(packet.data() + at);
    at += 4;
    if (packet.size() - at < length) return false;
    at += length;
    return true;
  };
  if (!skip_string()) return OggError::kBadOpusTags;  // the vendor string
  if (packet.size() - at < 4) return OggError::kBadOpusTags;
  const std::uint32_t count = get_le32(packet.data() + at);
  at += 4;
  // Each comment takes at least its 4-byte length, so a count this large cannot fit.
  if (count > (packet.size() - at) / 4) return OggError::kBadOpusTags;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!skip_string()) return OggError::kBadOpusTags;
  }
  return {};  // RFC 7845 5.2: bytes after the comments may carry binary data; ignored
}

void write_opus_tags(Buffer& out) {
  out.append(as_bytes(kOpusTagsMagic));
  put_le(out, kOggOpusVendor.size(), 4);
  out.append(as_bytes(kOggOpusVendor));
  put_le(out, 0, 4);  // no comments
}

// --- Ogg Opus stream -----------------------------------------------------------------------

Expected<std::size_t, OggError> OggOpusDemuxer::feed(BytesView bytes) {
  if (failed_) return OggError::kTruncated;
  auto used = pages_.feed(bytes);
  if (!used) failed_ = true;
  return used;
}

Expected<std::optional<OggOpusPacket>, OggError> OggOpusDemuxer::next_packet() {
  using Result = Expected<std::optional<OggOpusPacket>, OggError>;
  auto fail = [this](OggError error) -> Result {
    failed_ = true;
    return error;
  };
  if (failed_) return OggError::kTruncated;
  for (;;) {
    if (auto packet = assembler_.next_packet()) {
      auto taken = take(*packet);
      if (!taken) return fail(taken.error());
      if (*taken) return taken;
      continue;
    }
    if (!pages_.page_ready()) return std::optional<OggOpusPacket>{};
    auto page = pages_.take_page();
    if (!page) return fail(page.error());
    // RFC 7845 3: the first page is the BOS page with the ID header alone.
    if (assembler_.pages() == 0 && !page->header.bos) return fail(OggError::kNoOpusHead);
    auto pushed = assembler_.push_page(*page);
    if (!pushed) return fail(pushed.error());
  }
}

Expected<std::optional<OggOpusPacket>, OggError> OggOpusDemuxer::take(const OggPacket& packet) {
  const std::uint64_t index = packets_++;
  if (index == 0) {
    auto head = parse_opus_head(packet.data);
    if (!head) return head.error();
    if (!packet.last_on_page || assembler_.pages() != 1 || assembler_.packet_in_progress())
      return OggError::kNoOpusHead;
    head_ = std::move(*head);
    return std::optional<OggOpusPacket>{};
  }
  if (index == 1) {
    auto tags = check_opus_tags(packet.data);
    if (!tags) return tags.error();
    // RFC 7845 3: the comment header ends its page; audio starts on a fresh one.
    if (!packet.last_on_page || assembler_.packet_in_progress()) return OggError::kNoOpusTags;
    tags_seen_ = true;
    return std::optional<OggOpusPacket>{};
  }
  auto samples = rtp::opus_packet_samples(packet.data);
  if (!samples) return OggError::kBadOpusPacket;
  OggOpusPacket out{packet.data, *samples, timestamp_};
  timestamp_ += *samples;
  return std::optional<OggOpusPacket>{out};
}

Expected<void, OggError> OggOpusDemuxer::finish() const {
  if (failed_) return OggError::kTruncated;
  if (pages_.mid_page()) return OggError::kTruncated;
  if (!head_) return OggError::kNoOpusHead;
  if (!tags_seen_) return OggError::kNoOpusTags;
  if (assembler_.packet_in_progress()) return OggError::kTruncated;
  return {};
}

Expected<OggOpusParser, OggError> OggOpusParser::open(BytesView file) {
  OggOpusParser parser(file);
  while (!parser.demuxer_.headers_done()) {
    auto packet = parser.demuxer_.next_packet();
    if (!packet) return packet.error();
    if (*packet) return OggError::kNoOpusTags;  // cannot happen: headers come first
    if (parser.demuxer_.headers_done()) break;
    if (parser.rest_.empty()) {
      auto finished = parser.demuxer_.finish();
      return finished ? OggError::kTruncated : finished.error();
    }
    auto used = parser.demuxer_.feed(parser.rest_);
    if (!used) return used.error();
    parser.rest_ = parser.rest_.subspan(*used);
  }
  return parser;
}

Expected<std::optional<OggOpusPacket>, OggError> OggOpusParser::next_packet() {
  for (;;) {
    auto packet = demuxer_.next_packet();
    if (!packet || *packet) return packet;
    if (rest_.empty()) {
      auto finished = demuxer_.finish();
      if (!finished) return finished.error();
      return std::optional<OggOpusPacket>{};
    }
    auto used = demuxer_.feed(rest_);
    if (!used) return used.error();
    rest_ = rest_.subspan(*used);
  }
}

// --- Files ---------------------------------------------------------------------------------

namespace {
constexpr std::size_t kReadChunkSize = std::size_t{16} * 1024;
}  // namespace

Expected<OggOpusFileReader, OggError> OggOpusFileReader::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return OggError::kIo;
  OggOpusFileReader reader(file);
  // Up to the end of the headers, so that head() is known.
  while (!reader.demuxer_.headers_done()) {
    auto packet = reader.demuxer_.next_packet();
    if (!packet) return packet.error();
    if (reader.demuxer_.headers_done()) break;
    auto more = reader.read_more();
    if (!more) return more.error();
    if (!*more) {
      auto finished = reader.demuxer_.finish();
      return finished ? OggError::kTruncated : finished.error();
    }
  }
  return reader;
}

OggOpusFileReader::OggOpusFileReader(OggOpusFileReader&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      demuxer_(std::move(other.demuxer_)),
      chunk_(std::move(other.chunk_)),
      chunk_offset_(other.chunk_offset_) {}

OggOpusFileReader& OggOpusFileReader::operator=(OggOpusFileReader&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    demuxer_ = std::move(other.demuxer_);
    chunk_ = std::move(other.chunk_);
    chunk_offset_ = other.chunk_offset_;
  }
  return *this;
}

OggOpusFileReader::~OggOpusFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Expected<bool, OggError> OggOpusFileReader::read_more() {
  if (file_ == nullptr) return false;
  if (chunk_offset_ >= chunk_.size()) {
    chunk_.resize(kReadChunkSize);
    const std::size_t got = std::fread(chunk_.data(), 1, chunk_.size(), file_);
    chunk_.resize(got);
    chunk_offset_ = 0;
    if (got == 0) return std::ferror(file_) != 0 ? Expected<bool, OggError>(OggError::kIo) : false;
  }
  auto used = demuxer_.feed(chunk_.view().subspan(chunk_offset_));
  if (!used) return used.error();
  chunk_offset_ += *used;
  return true;
}

Expected<std::optional<OggOpusPacket>, OggError> OggOpusFileReader::next_packet(Buffer& data) {
  for (;;) {
    auto packet = demuxer_.next_packet();
    if (!packet) return packet.error();
    if (*packet) {
      data.assign((*packet)->data);
      (*packet)->data = data.view();
      return packet;
    }
    auto more = read_more();
    if (!more) return more.error();
    if (!*more) {
      auto finished = demuxer_.finish();
      if (!finished) return finished.error();
      return std::optional<OggOpusPacket>{};
    }
  }
}

OggOpusFileWriter::OggOpusFileWriter(std::FILE* file, std::uint32_t serial) noexcept
    : file_(file), serial_(serial) {}

Expected<OggOpusFileWriter, OggError> OggOpusFileWriter::create(const std::string& path,
                                                                std::uint8_t channels,
                                                                std::uint16_t pre_skip) {
  OggOpusWriterConfig config;
  config.channels = channels;
  config.pre_skip = pre_skip;
  return create(path, config);
}

Expected<OggOpusFileWriter, OggError> OggOpusFileWriter::create(const std::string& path,
                                                                const OggOpusWriterConfig& config) {
  if (config.channels < 1 || config.channels > 2) return OggError::kBadOpusHead;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return OggError::kIo;
  OggOpusFileWriter writer(file, config.serial);
  OpusHead head;
  head.channels = config.channels;
  head.pre_skip = config.pre_skip;
  head.input_sample_rate = config.input_sample_rate;
  Buffer packet;
  write_opus_head(head, packet);
  // RFC 7845 3: the ID header alone on the BOS page, then the comment header on its own
  // page(s); both with granule position 0.
  Buffer pages;
  const std::array<std::uint8_t, 1> head_lace{static_cast<std::uint8_t>(packet.size())};
  OggPageHeader header;
  header.bos = true;
  header.granule_position = 0;
  header.serial = config.serial;
  header.sequence = writer.sequence_++;
  write_ogg_page(header, head_lace, packet, pages);
  packet.clear();
  write_opus_tags(packet);
  const std::array<std::uint8_t, 1> tags_lace{static_cast<std::uint8_t>(packet.size())};
  header.bos = false;
  header.sequence = writer.sequence_++;
  write_ogg_page(header, tags_lace, packet, pages);
  if (std::fwrite(pages.data(), 1, pages.size(), file) != pages.size()) {
    std::fclose(std::exchange(writer.file_, nullptr));
    return OggError::kIo;
  }
  return writer;
}

OggOpusFileWriter::OggOpusFileWriter(OggOpusFileWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      serial_(other.serial_),
      sequence_(other.sequence_),
      granule_(other.granule_),
      segments_(std::move(other.segments_)),
      body_(std::move(other.body_)),
      continued_(other.continued_),
      packet_ended_(other.packet_ended_),
      page_start_granule_(other.page_start_granule_),
      scratch_(std::move(other.scratch_)) {}

OggOpusFileWriter& OggOpusFileWriter::operator=(OggOpusFileWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    file_ = std::exchange(other.file_, nullptr);
    serial_ = other.serial_;
    sequence_ = other.sequence_;
    granule_ = other.granule_;
    segments_ = std::move(other.segments_);
    body_ = std::move(other.body_);
    continued_ = other.continued_;
    packet_ended_ = other.packet_ended_;
    page_start_granule_ = other.page_start_granule_;
    scratch_ = std::move(other.scratch_);
  }
  return *this;
}

OggOpusFileWriter::~OggOpusFileWriter() {
  (void)close();
}

Expected<void, OggError> OggOpusFileWriter::write_packet(BytesView packet) {
  if (file_ == nullptr) return OggError::kClosed;
  const auto samples = rtp::opus_packet_samples(packet);
  if (!samples) return OggError::kBadOpusPacket;
  // A full page goes out before the next packet, so that close() always has a last page
  // with audio on it to mark EOS.
  if (!segments_.empty() &&
      (granule_ - page_start_granule_ >= kPageSamples || body_.size() >= kPageBytes)) {
    auto flushed = flush_page(false);
    if (!flushed) return flushed;
  }
  std::size_t offset = 0;
  for (;;) {
    if (segments_.size() == kMaxOggSegments) {
      // The packet goes on in the next page.
      auto flushed = flush_page(false);
      if (!flushed) return flushed;
      continued_ = true;
    }
    const std::size_t lace = std::min<std::size_t>(packet.size() - offset, 255);
    segments_.push_back(static_cast<std::uint8_t>(lace));
    body_.append(packet.subspan(offset, lace));
    offset += lace;
    if (lace < 255) break;  // a packet of a multiple of 255 bytes ends with a 0 lace
  }
  granule_ += *samples;
  packet_ended_ = true;
  return {};
}

Expected<void, OggError> OggOpusFileWriter::flush_page(bool eos) {
  OggPageHeader header;
  header.continued = continued_;
  header.eos = eos;
  // RFC 3533 6 / RFC 7845 4: the end of the last packet completed on the page, if any.
  header.granule_position = packet_ended_ || segments_.empty() ? granule_ : kOggNoGranule;
  header.serial = serial_;
  header.sequence = sequence_++;
  scratch_.clear();
  write_ogg_page(header, segments_, body_, scratch_);
  segments_.clear();
  body_.clear();
  continued_ = false;
  packet_ended_ = false;
  page_start_granule_ = granule_;
  if (std::fwrite(scratch_.data(), 1, scratch_.size(), file_) != scratch_.size())
    return OggError::kIo;
  return {};
}

Expected<void, OggError> OggOpusFileWriter::close() {
  if (file_ == nullptr) return OggError::kClosed;
  auto flushed = flush_page(true);
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed) return flushed;
  if (!closed) return OggError::kIo;
  return {};
}

}  // namespace rtcpp::media
