#include "rtp/rtcp_packet.hpp"

#include <algorithm>

#include "base/byte_reader.hpp"
#include "base/serial.hpp"
#include "rtp/rtcp_writing.hpp"

namespace rtcpp::rtp {

using rtcp_detail::fits;
using rtcp_detail::read_feedback_header;
using rtcp_detail::round_up4;
using rtcp_detail::write_header;

std::string_view to_string(RtcpParseError error) noexcept {
  switch (error) {
    case RtcpParseError::kTooShort:
      return "RTCP packet shorter than its header";
    case RtcpParseError::kBadVersion:
      return "RTCP version is not 2";
    case RtcpParseError::kLengthBeyondEnd:
      return "RTCP length runs past the compound";
    case RtcpParseError::kBadPadding:
      return "RTCP padding count is zero or larger than the packet";
    case RtcpParseError::kTooManyPackets:
      return "too many packets in an RTCP compound";
    case RtcpParseError::kWrongType:
      return "RTCP packet of another type";
    case RtcpParseError::kMalformed:
      return "RTCP packet body does not match its type and count";
  }
  return "unknown RTCP parse error";
}

// --- The compound walk ---------------------------------------------------------------------

RtcpResult<std::optional<RtcpPacketView>> RtcpCompoundReader::next() noexcept {
  if (rest_.empty()) return std::optional<RtcpPacketView>{};
  const BytesView input = rest_;
  rest_ = {};  // an error below ends the walk
  if (input.size() < kRtcpHeaderSize) return RtcpParseError::kTooShort;
  if ((input[0] >> 6) != 2) return RtcpParseError::kBadVersion;
  const std::size_t size = 4 * (std::size_t{load_be16(&input[2])} + 1);
  if (size > input.size()) return RtcpParseError::kLengthBeyondEnd;
  RtcpPacketView packet;
  packet.count = input[0] & 0x1F;
  packet.type = input[1];
  packet.bytes = input.first(size);
  std::size_t body_size = size - kRtcpHeaderSize;
  if ((input[0] & 0x20) != 0) {
    // RFC 3550 6.4.1: the last octet counts the padding, itself included.
    const std::size_t padding = packet.bytes.back();
    if (padding == 0 || padding > body_size) return RtcpParseError::kBadPadding;
    body_size -= padding;
  }
  packet.body = packet.bytes.subspan(kRtcpHeaderSize, body_size);
  rest_ = input.subspan(size);
  return std::optional<RtcpPacketView>{packet};
}

RtcpResult<std::vector<RtcpPacketView>> split_rtcp_compound(BytesView compound) {
  if (compound.empty()) return RtcpParseError::kTooShort;
  std::vector<RtcpPacketView> packets;
  RtcpCompoundReader reader(compound);
  while (true) {
    auto packet = reader.next();
    if (!packet) return packet.error();
    if (!*packet) break;
    if (packets.size() == kMaxRtcpPacketsPerCompound) return RtcpParseError::kTooManyPackets;
    packets.push_back(**packet);
  }
  return packets;
}

namespace {

RtcpResult<ReportBlock> read_report_block(ByteReader& reader) {
  ReportBlock block;
  auto ssrc = reader.read_u32();
  auto fraction = reader.read_u8();
  auto lost = reader.read_u24();
  auto highest = reader.read_u32();
  auto jitter = reader.read_u32();
  auto lsr = reader.read_u32();
  auto dlsr = reader.read_u32();
  if (!ssrc || !fraction || !lost || !highest || !jitter || !lsr || !dlsr)
    return RtcpParseError::kMalformed;
  block.ssrc = *ssrc;
  block.fraction_lost = *fraction;
  // Sign-extend the 24-bit count.
  block.cumulative_lost = (*lost & 0x800000u) != 0 ? static_cast<std::int32_t>(*lost) - 0x1000000
                                                   : static_cast<std::int32_t>(*lost);
  block.extended_highest_sequence = *highest;
  block.jitter = *jitter;
  block.last_sender_report = *lsr;
  block.delay_since_last_sender_report = *dlsr;
  return block;
}

void write_report_block(ByteWriter& writer, const ReportBlock& block) {
  const std::int32_t lost = std::clamp<std::int32_t>(block.cumulative_lost, -0x800000, 0x7FFFFF);
  writer.write_u32(block.ssrc);
  writer.write_u8(block.fraction_lost);
  writer.write_u24(static_cast<std::uint32_t>(lost) & 0xFFFFFFu);
  writer.write_u32(block.extended_highest_sequence);
  writer.write_u32(block.jitter);
  writer.write_u32(block.last_sender_report);
  writer.write_u32(block.delay_since_last_sender_report);
}

RtcpResult<std::vector<ReportBlock>> read_report_blocks(ByteReader& reader, std::size_t count) {
  if (reader.remaining() < count * kReportBlockSize) return RtcpParseError::kMalformed;
  std::vector<ReportBlock> blocks;
  blocks.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto block = read_report_block(reader);
    if (!block) return block.error();
    blocks.push_back(*block);
  }
  return blocks;
}

}  // namespace

// --- SR and RR -----------------------------------------------------------------------------

RtcpResult<SenderReport> SenderReport::parse(const RtcpPacketView& packet) {
  if (packet.type != rtcp_type::kSenderReport) return RtcpParseError::kWrongType;
  ByteReader reader(packet.body);
  SenderReport report;
  auto ssrc = reader.read_u32();
  auto ntp = reader.read_u64();
  auto rtp_ts = reader.read_u32();
  auto packets = reader.read_u32();
  auto octets = reader.read_u32();
  if (!ssrc || !ntp || !rtp_ts || !packets || !octets) return RtcpParseError::kMalformed;
  report.sender_ssrc = *ssrc;
  report.ntp_timestamp = *ntp;
  report.rtp_timestamp = *rtp_ts;
  report.packet_count = *packets;
  report.octet_count = *octets;
  auto blocks = read_report_blocks(reader, packet.count);
  if (!blocks) return blocks.error();
  report.report_blocks = std::move(*blocks);
  return report;
}

std::size_t SenderReport::size() const noexcept {
  return kRtcpHeaderSize + 24 + report_blocks.size() * kReportBlockSize;
}

bool SenderReport::write_to(ByteWriter& writer) const {
  if (report_blocks.size() > kMaxRtcpCount || !fits(writer, size())) return false;
  write_header(writer, static_cast<std::uint8_t>(report_blocks.size()), rtcp_type::kSenderReport,
               size());
  writer.write_u32(sender_ssrc);
  writer.write_u64(ntp_timestamp);
  writer.write_u32(rtp_timestamp);
  writer.write_u32(packet_count);
  writer.write_u32(octet_count);
  for (const auto& block : report_blocks) write_report_block(writer, block);
  return writer.ok();
}

RtcpResult<ReceiverReport> ReceiverReport::parse(const RtcpPacketView& packet) {
  if (packet.type != rtcp_type::kReceiverReport) return RtcpParseError::kWrongType;
  ByteReader reader(packet.body);
  ReceiverReport report;
  auto ssrc = reader.read_u32();
  if (!ssrc) return RtcpParseError::kMalformed;
  report.sender_ssrc = *ssrc;
  auto blocks = read_report_blocks(reader, packet.count);
  if (!blocks) return blocks.error();
  report.report_blocks = std::move(*blocks);
  return report;
}

std::size_t ReceiverReport::size() const noexcept {
  return kRtcpHeaderSize + 4 + report_blocks.size() * kReportBlockSize;
}

bool ReceiverReport::write_to(ByteWriter& writer) const {
  if (report_blocks.size() > kMaxRtcpCount || !fits(writer, size())) return false;
  write_header(writer, static_cast<std::uint8_t>(report_blocks.size()), rtcp_type::kReceiverReport,
               size());
  writer.write_u32(sender_ssrc);
  for (const auto& block : report_blocks) write_report_block(writer, block);
  return writer.ok();
}

// --- SDES ----------------------------------------------------------------------------------

std::optional<std::string_view> SdesChunk::cname() const noexcept {
  for (const auto& item : items) {
    if (item.type == sdes_item::kCname) return std::string_view(item.value);
  }
  return std::nullopt;
}

RtcpResult<SourceDescription> SourceDescription::parse(const RtcpPacketView& packet) {
  if (packet.type != rtcp_type::kSourceDescription) return RtcpParseError::kWrongType;
  ByteReader reader(packet.body);
  SourceDescription sdes;
  sdes.chunks.reserve(packet.count);
  for (std::size_t i = 0; i < packet.count; ++i) {
    SdesChunk chunk;
    auto ssrc = reader.read_u32();
    if (!ssrc) return RtcpParseError::kMalformed;
    chunk.ssrc = *ssrc;
    while (true) {
      auto type = reader.read_u8();
      if (!type) return RtcpParseError::kMalformed;  // the list never ended
      if (*type == 0) break;
      auto length = reader.read_u8();
      if (!length) return RtcpParseError::kMalformed;
      auto text = reader.read_bytes(*length);
      if (!text) return RtcpParseError::kMalformed;
      chunk.items.push_back(SdesItem{*type, std::string(as_string(*text))});
    }
    // RFC 3550 6.5: null octets pad each chunk to the next 32-bit boundary (the body starts
    // on one, so the reader's position tells).
    if (!reader.align(4)) return RtcpParseError::kMalformed;
    sdes.chunks.push_back(std::move(chunk));
  }
  return sdes;
}

namespace {
std::size_t sdes_chunk_size(const SdesChunk& chunk) {
  std::size_t size = 4;
  for (const auto& item : chunk.items) size += 2 + item.value.size();
  return round_up4(size + 1);  // at least one null octet ends the list
}
}  // namespace

std::size_t SourceDescription::size() const noexcept {
  std::size_t size = kRtcpHeaderSize;
  for (const auto& chunk : chunks) size += sdes_chunk_size(chunk);
  return size;
}

bool SourceDescription::write_to(ByteWriter& writer) const {
  if (chunks.size() > kMaxRtcpCount) return false;
  for (const auto& chunk : chunks) {
    for (const auto& item : chunk.items) {
      if (item.type == 0 || item.value.size() > 255) return false;
    }
  }
  if (!fits(writer, size())) return false;
  write_header(writer, static_cast<std::uint8_t>(chunks.size()), rtcp_type::kSourceDescription,
               size());
  for (const auto& chunk : chunks) {
    const std::size_t start = writer.position();
    writer.write_u32(chunk.ssrc);
    for (const auto& item : chunk.items) {
      writer.write_u8(item.type);
      writer.write_u8(static_cast<std::uint8_t>(item.value.size()));
      writer.write_bytes(as_bytes(item.value));
    }
    writer.write_zeros(sdes_chunk_size(chunk) - (writer.position() - start));
  }
  return writer.ok();
}

// --- BYE -----------------------------------------------------------------------------------

RtcpResult<Goodbye> Goodbye::parse(const RtcpPacketView& packet) {
  if (packet.type != rtcp_type::kGoodbye) return RtcpParseError::kWrongType;
  ByteReader reader(packet.body);
  Goodbye bye;
  if (reader.remaining() < 4u * packet.count) return RtcpParseError::kMalformed;
  bye.ssrcs.reserve(packet.count);
  for (std::size_t i = 0; i < packet.count; ++i) bye.ssrcs.push_back(*reader.read_u32());
  if (!reader.empty()) {
    // RFC 3550 6.6: an optional reason, a length octet and text.
    const std::uint8_t length = *reader.read_u8();
    auto text = reader.read_bytes(length);
    if (!text) return RtcpParseError::kMalformed;
    bye.reason = std::string(as_string(*text));
  }
  return bye;
}

std::size_t Goodbye::size() const noexcept {
  std::size_t size = kRtcpHeaderSize + 4 * ssrcs.size();
  if (!reason.empty()) size += round_up4(1 + reason.size());
  return size;
}

bool Goodbye::write_to(ByteWriter& writer) const {
  if (ssrcs.size() > kMaxRtcpCount || reason.size() > 255 || !fits(writer, size())) return false;
  write_header(writer, static_cast<std::uint8_t>(ssrcs.size()), rtcp_type::kGoodbye, size());
  for (const std::uint32_t ssrc : ssrcs) writer.write_u32(ssrc);
  if (!reason.empty()) {
    writer.write_u8(static_cast<std::uint8_t>(reason.size()));
    writer.write_bytes(as_bytes(reason));
    writer.pad_to(4);
  }
  return writer.ok();
}

// --- Generic NACK --------------------------------------------------------------------------

GenericNack GenericNack::from_lost_packets(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                           std::span<const std::uint16_t> lost) {
  GenericNack nack{sender_ssrc, media_ssrc, {}};
  for (const std::uint16_t seq : lost) {
    if (!nack.items.empty()) {
      // The bitmask covers PID+1 .. PID+16 (RFC 4585 6.2.1).
      auto& item = nack.items.back();
      const std::int64_t distance = serial_distance(item.packet_id, seq);
      if (distance == 0) continue;
      if (distance >= 1 && distance <= 16) {
        item.lost_bitmask = static_cast<std::uint16_t>(item.lost_bitmask | (1u << (distance - 1)));
        continue;
      }
    }
    nack.items.push_back(NackItem{seq, 0});
  }
  return nack;
}

std::vector<std::uint16_t> GenericNack::lost_packets() const {
  std::vector<std::uint16_t> lost;
  for (const auto& item : items) {
    lost.push_back(item.packet_id);
    for (unsigned bit = 0; bit < 16; ++bit) {
      if ((item.lost_bitmask & (1u << bit)) != 0)
        lost.push_back(static_cast<std::uint16_t>(item.packet_id + bit + 1));
    }
  }
  return lost;
}

RtcpResult<GenericNack> GenericNack::parse(const RtcpPacketView& packet) {
  ByteReader reader(packet.body);
  auto header =
      read_feedback_header(packet, rtcp_type::kTransportFeedback, rtcp_fmt::kGenericNack, reader);
  if (!header) return header.error();
  // RFC 4585 6.2.1: one or more whole 4-byte items.
  if (reader.empty() || reader.remaining() % 4 != 0) return RtcpParseError::kMalformed;
  GenericNack nack{header->sender_ssrc, header->media_ssrc, {}};
  nack.items.reserve(reader.remaining() / 4);
  while (!reader.empty()) nack.items.push_back(NackItem{*reader.read_u16(), *reader.read_u16()});
  return nack;
}

std::size_t GenericNack::size() const noexcept {
  return kRtcpHeaderSize + 8 + 4 * items.size();
}

bool GenericNack::write_to(ByteWriter& writer) const {
  if (items.empty() || !fits(writer, size())) return false;
  write_header(writer, rtcp_fmt::kGenericNack, rtcp_type::kTransportFeedback, size());
  writer.write_u32(sender_ssrc);
  writer.write_u32(media_ssrc);
  for (const auto& item : items) {
    writer.write_u16(item.packet_id);
    writer.write_u16(item.lost_bitmask);
  }
  return writer.ok();
}

// --- PLI and FIR ---------------------------------------------------------------------------

RtcpResult<PictureLossIndication> PictureLossIndication::parse(const RtcpPacketView& packet) {
  ByteReader reader(packet.body);
  auto header = read_feedback_header(packet, rtcp_type::kPayloadFeedback,
                                     rtcp_fmt::kPictureLossIndication, reader);
  if (!header) return header.error();
  // RFC 4585 6.3.1 has no FCI; anything after the SSRCs is ignored.
  return PictureLossIndication{header->sender_ssrc, header->media_ssrc};
}

bool PictureLossIndication::write_to(ByteWriter& writer) const {
  if (!fits(writer, size())) return false;
  write_header(writer, rtcp_fmt::kPictureLossIndication, rtcp_type::kPayloadFeedback, size());
  writer.write_u32(sender_ssrc);
  writer.write_u32(media_ssrc);
  return writer.ok();
}

RtcpResult<FullIntraRequest> FullIntraRequest::parse(const RtcpPacketView& packet) {
  ByteReader reader(packet.body);
  auto header = read_feedback_header(packet, rtcp_type::kPayloadFeedback,
                                     rtcp_fmt::kFullIntraRequest, reader);
  if (!header) return header.error();
  // RFC 5104 4.3.1.1: one or more 8-byte entries (SSRC, sequence number, 24 reserved bits).
  if (reader.empty() || reader.remaining() % 8 != 0) return RtcpParseError::kMalformed;
  FullIntraRequest fir{header->sender_ssrc, {}};
  fir.entries.reserve(reader.remaining() / 8);
  while (!reader.empty()) {
    const std::uint32_t ssrc = *reader.read_u32();
    const std::uint8_t seq = *reader.read_u8();
    (void)reader.skip(3);
    fir.entries.push_back(FirEntry{ssrc, seq});
  }
  return fir;
}

std::size_t FullIntraRequest::size() const noexcept {
  return kRtcpHeaderSize + 8 + 8 * entries.size();
}

bool FullIntraRequest::write_to(ByteWriter& writer) const {
  if (entries.empty() || !fits(writer, size())) return false;
  write_header(writer, rtcp_fmt::kFullIntraRequest, rtcp_type::kPayloadFeedback, size());
  writer.write_u32(sender_ssrc);
  writer.write_u32(0);
  for (const auto& entry : entries) {
    writer.write_u32(entry.ssrc);
    writer.write_u8(entry.sequence_number);
    writer.write_u24(0);
  }
  return writer.ok();
}

// --- Whole compounds -----------------------------------------------------------------------

namespace {

// The typed message of one packet: nothing for a type we do not read, else the parse result.
std::optional<RtcpResult<RtcpMessage>> parse_message(const RtcpPacketView& packet) {
  auto lift = [](auto result) -> RtcpResult<RtcpMessage> {
    if (!result) return result.error();
    return RtcpMessage(std::move(*result));
  };
  switch (packet.type) {
    case rtcp_type::kSenderReport:
      return lift(SenderReport::parse(packet));
    case rtcp_type::kReceiverReport:
      return lift(ReceiverReport::parse(packet));
    case rtcp_type::kSourceDescription:
      return lift(SourceDescription::parse(packet));
    case rtcp_type::kGoodbye:
      return lift(Goodbye::parse(packet));
    case rtcp_type::kTransportFeedback:
      if (packet.count == rtcp_fmt::kGenericNack) return lift(GenericNack::parse(packet));
      if (packet.count == rtcp_fmt::kTransportWideFeedback)
        return lift(TransportFeedback::parse(packet));
      return std::nullopt;
    case rtcp_type::kPayloadFeedback:
      if (packet.count == rtcp_fmt::kPictureLossIndication)
        return lift(PictureLossIndication::parse(packet));
      if (packet.count == rtcp_fmt::kFullIntraRequest) return lift(FullIntraRequest::parse(packet));
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

RtcpResult<RtcpCompound> parse_rtcp_compound(BytesView compound) {
  auto packets = split_rtcp_compound(compound);
  if (!packets) return packets.error();
  RtcpCompound result;
  result.messages.reserve(packets->size());
  for (const auto& packet : *packets) {
    auto message = parse_message(packet);
    if (!message) {
      ++result.unknown_skipped;
    } else if (!*message) {
      ++result.malformed_skipped;
    } else {
      result.messages.push_back(std::move(**message));
    }
  }
  return result;
}

bool write_rtcp(const RtcpMessage& message, ByteWriter& writer) {
  return std::visit([&writer](const auto& m) { return m.write_to(writer); }, message);
}

std::size_t rtcp_size(const RtcpMessage& message) noexcept {
  return std::visit([](const auto& m) { return m.size(); }, message);
}

}  // namespace rtcpp::rtp
