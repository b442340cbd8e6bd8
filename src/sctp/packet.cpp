#include "sctp/packet.hpp"

#include <algorithm>
#include <cstring>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "base/crc32c.hpp"

namespace rtcpp::sctp {
namespace {

std::size_t padded(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

// RFC 9260 appendix B: the CRC32c goes on the wire least significant byte first.
std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
void store_le32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

std::uint32_t packet_checksum(BytesView packet) {
  static constexpr std::uint8_t kZero[4] = {};
  std::uint32_t crc = crc32c_extend(0, packet.first(8));
  crc = crc32c_extend(crc, kZero);
  return crc32c_extend(crc, packet.subspan(kCommonHeaderSize));
}

}  // namespace

std::string_view to_string(SctpParseError e) noexcept {
  switch (e) {
    case SctpParseError::kTooShort:
      return "SCTP packet too short";
    case SctpParseError::kBadChecksum:
      return "SCTP checksum mismatch";
    case SctpParseError::kBadChunkLength:
      return "SCTP chunk length invalid";
    case SctpParseError::kTooManyChunks:
      return "too many SCTP chunks";
    case SctpParseError::kMalformedChunk:
      return "malformed SCTP chunk";
    case SctpParseError::kTooManyParameters:
      return "too many SCTP parameters";
  }
  return "?";
}

ParseResult<PacketView> parse_packet(BytesView packet, ChecksumMode mode) {
  PacketView view;
  if (auto error = parse_packet(packet, mode, view)) return *error;
  return view;
}

std::optional<SctpParseError> parse_packet(BytesView packet, ChecksumMode mode, PacketView& view) {
  view.chunks.clear();
  if (packet.size() < kCommonHeaderSize + kChunkHeaderSize) return SctpParseError::kTooShort;
  view.header.source_port = load_be16(packet.data());
  view.header.destination_port = load_be16(packet.data() + 2);
  view.header.verification_tag = load_be32(packet.data() + 4);
  view.checksum = load_le32(packet.data() + 8);
  if (mode != ChecksumMode::kSkip && !(mode == ChecksumMode::kAcceptZero && view.checksum == 0)) {
    if (packet_checksum(packet) != view.checksum) return SctpParseError::kBadChecksum;
  }
  ByteReader r(packet.subspan(kCommonHeaderSize));
  while (!r.empty()) {
    auto type = r.read_u8();
    auto flags = r.read_u8();
    auto length = r.read_u16();
    if (!length || *length < kChunkHeaderSize) return SctpParseError::kBadChunkLength;
    auto value = r.read_bytes(*length - kChunkHeaderSize);
    if (!value) return SctpParseError::kBadChunkLength;
    // RFC 9260 3.2: the last chunk's padding may be missing; tolerate that, nothing else.
    const std::size_t pad = padded(*length) - *length;
    if (r.remaining() < pad) {
      if (!r.empty()) return SctpParseError::kBadChunkLength;
    } else if (!r.skip(pad)) {
      return SctpParseError::kBadChunkLength;
    }
    if (view.chunks.size() == kMaxChunksPerPacket) return SctpParseError::kTooManyChunks;
    view.chunks.push_back({*type, *flags, *value});
  }
  return std::nullopt;
}

ParseResult<std::vector<Parameter>> parse_parameters(BytesView bytes) {
  std::vector<Parameter> out;
  ByteReader r(bytes);
  while (!r.empty()) {
    auto type = r.read_u16();
    auto length = r.read_u16();
    if (!length || *length < 4) return SctpParseError::kMalformedChunk;
    auto value = r.read_bytes(*length - 4u);
    if (!value) return SctpParseError::kMalformedChunk;
    const std::size_t pad = padded(*length) - *length;
    if (r.remaining() < pad) {
      if (!r.empty()) return SctpParseError::kMalformedChunk;
    } else if (!r.skip(pad)) {
      return SctpParseError::kMalformedChunk;
    }
    if (out.size() == kMaxParameters) return SctpParseError::kTooManyParameters;
    out.push_back({*type, *value});
  }
  return out;
}

void append_parameter(Buffer& out, std::uint16_t type, BytesView value) {
  ByteWriter w(out);
  w.write_u16(type);
  w.write_u16(static_cast<std::uint16_t>(4 + value.size()));
  w.write_bytes(value);
  w.pad_to(4);
}

std::optional<std::uint32_t> parse_zero_checksum_acceptable(const Parameter& p) {
  // RFC 9653 4: type 0x8001, length 8.
  if (p.type != param_type::kZeroChecksumAcceptable || p.value.size() != 4) return std::nullopt;
  return load_be32(p.value.data());
}

void append_zero_checksum_acceptable(Buffer& out, std::uint32_t edmid) {
  std::uint8_t value[4];
  store_be32(value, edmid);
  append_parameter(out, param_type::kZeroChecksumAcceptable, value);
}

PacketBuilder::PacketBuilder(Buffer& out, const CommonHeader& header, std::size_t mtu_limit)
    : out_(out), start_(out.size()), limit_(mtu_limit) {
  ByteWriter w(out_);
  w.write_u16(header.source_port);
  w.write_u16(header.destination_port);
  w.write_u32(header.verification_tag);
  w.write_u32(0);
}

std::size_t PacketBuilder::remaining() const noexcept {
  const std::size_t used = out_.size() - start_;
  return used >= limit_ ? 0 : limit_ - used;
}

MutableBytesView PacketBuilder::add_chunk(std::uint8_t type, std::uint8_t flags,
                                          std::size_t value_length) {
  const std::size_t total = kChunkHeaderSize + value_length;
  if (total > 0xFFFF || padded(total) > remaining()) return {};
  const std::size_t at = out_.size();
  out_.resize(at + padded(total));
  std::uint8_t* p = out_.data() + at;
  p[0] = type;
  p[1] = flags;
  store_be16(p + 2, static_cast<std::uint16_t>(total));
  std::memset(p + total, 0, padded(total) - total);
  return {p + kChunkHeaderSize, value_length};
}

bool PacketBuilder::add_chunk(std::uint8_t type, std::uint8_t flags, BytesView value) {
  auto dst = add_chunk(type, flags, value.size());
  if (dst.data() == nullptr) return false;
  if (!value.empty()) std::memcpy(dst.data(), value.data(), value.size());
  return true;
}

void PacketBuilder::finish(bool zero_checksum) {
  std::uint8_t* header = out_.data() + start_;
  store_le32(header + 8, 0);
  if (!zero_checksum) {
    const BytesView packet(header, out_.size() - start_);
    store_le32(header + 8, packet_checksum(packet));
  }
}

// --- DATA -------------------------------------------------------------------------------

ParseResult<DataChunk> DataChunk::parse(const ChunkView& chunk) {
  // RFC 9260 3.3.1: a DATA chunk with no user data is an error (we refuse it).
  if (chunk.type != chunk_type::kData || chunk.value.size() <= kHeaderSize)
    return SctpParseError::kMalformedChunk;
  DataChunk d;
  const std::uint8_t* p = chunk.value.data();
  d.tsn = load_be32(p);
  d.stream_id = load_be16(p + 4);
  d.stream_sequence = load_be16(p + 6);
  d.ppid = load_be32(p + 8);
  d.end = (chunk.flags & kFlagEnd) != 0;
  d.beginning = (chunk.flags & kFlagBeginning) != 0;
  d.unordered = (chunk.flags & kFlagUnordered) != 0;
  d.immediate = (chunk.flags & kFlagImmediate) != 0;
  d.payload = chunk.value.subspan(kHeaderSize);
  return d;
}

std::uint8_t DataChunk::flags() const noexcept {
  return static_cast<std::uint8_t>((end ? kFlagEnd : 0) | (beginning ? kFlagBeginning : 0) |
                                   (unordered ? kFlagUnordered : 0) |
                                   (immediate ? kFlagImmediate : 0));
}

bool DataChunk::write_to(PacketBuilder& builder) const {
  auto dst = builder.add_chunk(chunk_type::kData, flags(), kHeaderSize + payload.size());
  if (dst.empty()) return false;
  store_be32(dst.data(), tsn);
  store_be16(dst.data() + 4, stream_id);
  store_be16(dst.data() + 6, stream_sequence);
  store_be32(dst.data() + 8, ppid);
  if (!payload.empty()) std::memcpy(dst.data() + kHeaderSize, payload.data(), payload.size());
  return true;
}

// --- I-DATA -----------------------------------------------------------------------------

ParseResult<IDataChunk> IDataChunk::parse(const ChunkView& chunk) {
  // RFC 8260 2.1: like DATA, an I-DATA chunk carries at least one byte of user data; the
  // reserved field after the stream identifier is ignored.
  if (chunk.type != chunk_type::kIData || chunk.value.size() <= kHeaderSize)
    return SctpParseError::kMalformedChunk;
  IDataChunk d;
  const std::uint8_t* p = chunk.value.data();
  d.tsn = load_be32(p);
  d.stream_id = load_be16(p + 4);
  d.message_id = load_be32(p + 8);
  d.ppid_or_fsn = load_be32(p + 12);
  d.end = (chunk.flags & DataChunk::kFlagEnd) != 0;
  d.beginning = (chunk.flags & DataChunk::kFlagBeginning) != 0;
  d.unordered = (chunk.flags & DataChunk::kFlagUnordered) != 0;
  d.immediate = (chunk.flags & DataChunk::kFlagImmediate) != 0;
  d.payload = chunk.value.subspan(kHeaderSize);
  return d;
}

std::uint8_t IDataChunk::flags() const noexcept {
  // RFC 8260 2.1: the same flag bits as DATA.
  return static_cast<std::uint8_t>(
      (end ? DataChunk::kFlagEnd : 0) | (beginning ? DataChunk::kFlagBeginning : 0) |
      (unordered ? DataChunk::kFlagUnordered : 0) | (immediate ? DataChunk::kFlagImmediate : 0));
}

bool IDataChunk::write_to(PacketBuilder& builder) const {
  auto dst = builder.add_chunk(chunk_type::kIData, flags(), kHeaderSize + payload.size());
  if (dst.empty()) return false;
  store_be32(dst.data(), tsn);
  store_be16(dst.data() + 4, stream_id);
  store_be16(dst.data() + 6, 0);  // reserved
  store_be32(dst.data() + 8, message_id);
  store_be32(dst.data() + 12, ppid_or_fsn);
  if (!payload.empty()) std::memcpy(dst.data() + kHeaderSize, payload.data(), payload.size());
  return true;
}

// --- INIT / INIT ACK --------------------------------------------------------------------

ParseResult<InitChunk> InitChunk::parse(const ChunkView& chunk) {
  if ((chunk.type != chunk_type::kInit && chunk.type != chunk_type::kInitAck) ||
      chunk.value.size() < 16)
    return SctpParseError::kMalformedChunk;
  InitChunk init;
  const std::uint8_t* p = chunk.value.data();
  init.initiate_tag = load_be32(p);
  init.a_rwnd = load_be32(p + 4);
  init.outbound_streams = load_be16(p + 8);
  init.inbound_streams = load_be16(p + 10);
  init.initial_tsn = load_be32(p + 12);
  // RFC 9260 3.3.2: a zero tag or zero stream count is invalid (the receiver aborts).
  if (init.initiate_tag == 0 || init.outbound_streams == 0 || init.inbound_streams == 0)
    return SctpParseError::kMalformedChunk;
  auto params = parse_parameters(chunk.value.subspan(16));
  if (!params) return params.error();
  init.parameters = std::move(*params);
  return init;
}

const Parameter* InitChunk::find(std::uint16_t type) const noexcept {
  for (const auto& p : parameters) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

bool InitChunk::write_to(PacketBuilder& builder, std::uint8_t type) const {
  Buffer body;
  ByteWriter w(body);
  w.write_u32(initiate_tag);
  w.write_u32(a_rwnd);
  w.write_u16(outbound_streams);
  w.write_u16(inbound_streams);
  w.write_u32(initial_tsn);
  for (const auto& p : parameters) append_parameter(body, p.type, p.value);
  return builder.add_chunk(type, 0, body);
}

// --- SACK -------------------------------------------------------------------------------

ParseResult<SackChunk> SackChunk::parse(const ChunkView& chunk) {
  if (chunk.type != chunk_type::kSack || chunk.value.size() < 12)
    return SctpParseError::kMalformedChunk;
  const std::uint8_t* p = chunk.value.data();
  SackChunk s;
  s.cumulative_tsn_ack = load_be32(p);
  s.a_rwnd = load_be32(p + 4);
  const std::size_t gaps = load_be16(p + 8);
  const std::size_t dups = load_be16(p + 10);
  if (gaps > kMaxGapBlocks || dups > kMaxGapBlocks) return SctpParseError::kMalformedChunk;
  if (chunk.value.size() != 12 + 4 * gaps + 4 * dups) return SctpParseError::kMalformedChunk;
  s.gap_blocks.reserve(gaps);
  for (std::size_t i = 0; i < gaps; ++i) {
    const std::uint16_t start = load_be16(p + 12 + 4 * i);
    const std::uint16_t end = load_be16(p + 14 + 4 * i);
    // RFC 9260 3.3.4: offsets start at 1 and a block ends at or after its start.
    if (start == 0 || end < start) return SctpParseError::kMalformedChunk;
    s.gap_blocks.push_back({start, end});
  }
  s.duplicate_tsns.reserve(dups);
  for (std::size_t i = 0; i < dups; ++i)
    s.duplicate_tsns.push_back(load_be32(p + 12 + 4 * gaps + 4 * i));
  return s;
}

bool SackChunk::write_to(PacketBuilder& builder) const {
  const std::size_t gaps = std::min(gap_blocks.size(), kMaxGapBlocks);
  const std::size_t dups = std::min(duplicate_tsns.size(), kMaxGapBlocks);
  auto dst = builder.add_chunk(chunk_type::kSack, 0, 12 + 4 * gaps + 4 * dups);
  if (dst.empty()) return false;
  std::uint8_t* p = dst.data();
  store_be32(p, cumulative_tsn_ack);
  store_be32(p + 4, a_rwnd);
  store_be16(p + 8, static_cast<std::uint16_t>(gaps));
  store_be16(p + 10, static_cast<std::uint16_t>(dups));
  for (std::size_t i = 0; i < gaps; ++i) {
    store_be16(p + 12 + 4 * i, gap_blocks[i].start);
    store_be16(p + 14 + 4 * i, gap_blocks[i].end);
  }
  for (std::size_t i = 0; i < dups; ++i) store_be32(p + 12 + 4 * gaps + 4 * i, duplicate_tsns[i]);
  return true;
}

// --- FORWARD-TSN / I-FORWARD-TSN --------------------------------------------------------

ParseResult<ForwardTsnChunk> ForwardTsnChunk::parse(const ChunkView& chunk, bool interleaved) {
  const std::uint8_t expected = interleaved ? chunk_type::kIForwardTsn : chunk_type::kForwardTsn;
  const std::size_t entry = interleaved ? 8 : 4;
  if (chunk.type != expected || chunk.value.size() < 4 || (chunk.value.size() - 4) % entry != 0)
    return SctpParseError::kMalformedChunk;
  ForwardTsnChunk f;
  const std::uint8_t* p = chunk.value.data();
  f.new_cumulative_tsn = load_be32(p);
  const std::size_t count = (chunk.value.size() - 4) / entry;
  if (count > kMaxChunksPerPacket * 4) return SctpParseError::kMalformedChunk;
  f.skipped.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* e = p + 4 + entry * i;
    if (interleaved) {
      f.skipped.push_back({load_be16(e), (e[3] & 0x01) != 0, load_be32(e + 4)});
    } else {
      f.skipped.push_back({load_be16(e), false, load_be16(e + 2)});
    }
  }
  return f;
}

bool ForwardTsnChunk::write_to(PacketBuilder& builder, bool interleaved) const {
  const std::size_t entry = interleaved ? 8 : 4;
  auto dst = builder.add_chunk(interleaved ? chunk_type::kIForwardTsn : chunk_type::kForwardTsn, 0,
                               4 + entry * skipped.size());
  if (dst.empty()) return false;
  std::uint8_t* p = dst.data();
  store_be32(p, new_cumulative_tsn);
  for (std::size_t i = 0; i < skipped.size(); ++i) {
    std::uint8_t* e = p + 4 + entry * i;
    store_be16(e, skipped[i].stream_id);
    if (interleaved) {
      e[2] = 0;
      e[3] = skipped[i].unordered ? 1 : 0;
      store_be32(e + 4, skipped[i].sequence);
    } else {
      store_be16(e + 2, static_cast<std::uint16_t>(skipped[i].sequence));
    }
  }
  return true;
}

// --- RE-CONFIG parameters ---------------------------------------------------------------

ParseResult<OutgoingResetRequest> OutgoingResetRequest::parse(const Parameter& p) {
  if (p.type != param_type::kOutgoingSsnResetRequest || p.value.size() < 12 ||
      p.value.size() % 2 != 0)
    return SctpParseError::kMalformedChunk;
  OutgoingResetRequest r;
  r.request_sequence = load_be32(p.value.data());
  r.response_sequence = load_be32(p.value.data() + 4);
  r.sender_last_tsn = load_be32(p.value.data() + 8);
  const std::size_t count = (p.value.size() - 12) / 2;
  if (count > kMaxResetStreams) return SctpParseError::kMalformedChunk;
  r.streams.reserve(count);
  for (std::size_t i = 0; i < count; ++i) r.streams.push_back(load_be16(&p.value[12 + 2 * i]));
  return r;
}

void OutgoingResetRequest::append_to(Buffer& out) const {
  Buffer value;
  ByteWriter w(value);
  w.write_u32(request_sequence);
  w.write_u32(response_sequence);
  w.write_u32(sender_last_tsn);
  for (auto s : streams) w.write_u16(s);
  append_parameter(out, param_type::kOutgoingSsnResetRequest, value);
}

ParseResult<ReconfigResponse> ReconfigResponse::parse(const Parameter& p) {
  // RFC 6525 4.4: 8 bytes, or 16 with the optional next TSNs.
  if (p.type != param_type::kReconfigurationResponse ||
      (p.value.size() != 8 && p.value.size() != 16))
    return SctpParseError::kMalformedChunk;
  ReconfigResponse r;
  r.response_sequence = load_be32(p.value.data());
  const std::uint32_t result = load_be32(p.value.data() + 4);
  if (result > static_cast<std::uint32_t>(Result::kInProgress))
    return SctpParseError::kMalformedChunk;
  r.result = static_cast<Result>(result);
  return r;
}

void ReconfigResponse::append_to(Buffer& out) const {
  std::uint8_t value[8];
  store_be32(value, response_sequence);
  store_be32(value + 4, static_cast<std::uint32_t>(result));
  append_parameter(out, param_type::kReconfigurationResponse, value);
}

}  // namespace rtcpp::sctp
