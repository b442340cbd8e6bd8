#include "rtp/rtp_packet.hpp"

#include <cstring>

#include "base/byte_reader.hpp"

namespace rtcpp::rtp {

std::string_view to_string(RtpParseError error) noexcept {
  switch (error) {
    case RtpParseError::kTooShort:
      return "RTP packet shorter than its fixed header";
    case RtpParseError::kBadVersion:
      return "RTP version is not 2";
    case RtpParseError::kCsrcBeyondEnd:
      return "RTP CSRC list runs past the packet";
    case RtpParseError::kExtensionBeyondEnd:
      return "RTP header extension runs past the packet";
    case RtpParseError::kBadExtension:
      return "RTP header extension element runs past its block";
    case RtpParseError::kBadPadding:
      return "RTP padding count is zero or larger than the packet";
  }
  return "unknown RTP parse error";
}

std::string_view to_string(RtpBuildError error) noexcept {
  switch (error) {
    case RtpBuildError::kBadPayloadType:
      return "RTP payload type above 127";
    case RtpBuildError::kTooManyCsrcs:
      return "more than 15 CSRCs";
    case RtpBuildError::kTooManyExtensions:
      return "too many RTP header extension elements";
    case RtpBuildError::kBadExtensionId:
      return "RTP header extension id 0";
    case RtpBuildError::kExtensionTooLong:
      return "RTP header extension element longer than 255 bytes";
    case RtpBuildError::kDuplicateExtensionId:
      return "RTP header extension id used twice";
    case RtpBuildError::kNoRoom:
      return "RTP packet larger than its output";
  }
  return "unknown RTP build error";
}

namespace {

// Checks that an RFC 8285 block holds whole elements (the walk HeaderExtensionIterator does).
bool extension_block_is_valid(BytesView block, bool two_byte) noexcept {
  std::size_t pos = 0;
  while (pos < block.size()) {
    const std::uint8_t first = block[pos];
    if (first == 0) {  // a padding byte (RFC 8285 4.2, 4.3)
      ++pos;
      continue;
    }
    std::size_t length = 0;
    std::size_t element_header = 1;
    if (two_byte) {
      if (block.size() - pos < 2) return false;
      length = block[pos + 1];
      element_header = 2;
    } else {
      if ((first >> 4) == 15) return true;  // RFC 8285 4.2: stop at id 15
      if ((first >> 4) == 0) {              // id 0 is padding whatever its length nibble
        ++pos;
        continue;
      }
      length = (first & 0x0F) + 1u;
    }
    if (block.size() - pos - element_header < length) return false;
    pos += element_header + length;
  }
  return true;
}

}  // namespace

HeaderExtensionIterator::HeaderExtensionIterator(BytesView block, bool two_byte) noexcept
    : block_(block), two_byte_(two_byte) {}

std::optional<HeaderExtension> HeaderExtensionIterator::next() noexcept {
  while (position_ < block_.size()) {
    const std::uint8_t first = block_[position_];
    if (two_byte_) {
      if (first == 0) {
        ++position_;
        continue;
      }
      if (block_.size() - position_ < 2) break;
      const std::size_t length = block_[position_ + 1];
      if (block_.size() - position_ - 2 < length) break;
      HeaderExtension element{first, block_.subspan(position_ + 2, length)};
      position_ += 2 + length;
      return element;
    }
    const auto id = static_cast<std::uint8_t>(first >> 4);
    if (id == 0) {
      ++position_;
      continue;
    }
    if (id == 15) break;
    const std::size_t length = (first & 0x0F) + 1u;
    if (block_.size() - position_ - 1 < length) break;
    HeaderExtension element{id, block_.subspan(position_ + 1, length)};
    position_ += 1 + length;
    return element;
  }
  position_ = block_.size();
  return std::nullopt;
}

HeaderExtensionIterator RtpPacketView::extensions() const noexcept {
  if (has_one_byte_extensions()) return {extension_data, false};
  if (has_two_byte_extensions()) return {extension_data, true};
  return {};
}

std::optional<BytesView> RtpPacketView::extension(std::uint8_t id) const noexcept {
  auto it = extensions();
  while (auto element = it.next()) {
    if (element->id == id) return element->data;
  }
  return std::nullopt;
}

Expected<RtpPacketView, RtpParseError> parse_rtp_packet(BytesView packet) noexcept {
  if (packet.size() < kFixedHeaderSize) return RtpParseError::kTooShort;
  RtpPacketView view;
  view.packet = packet;
  const std::uint8_t first = packet[0];
  if ((first >> 6) != 2) return RtpParseError::kBadVersion;
  const bool has_padding = (first & 0x20) != 0;
  view.has_extension = (first & 0x10) != 0;
  view.csrc_count = first & 0x0F;
  view.marker = (packet[1] & 0x80) != 0;
  view.payload_type = packet[1] & 0x7F;
  view.sequence_number = load_be16(&packet[2]);
  view.timestamp = load_be32(&packet[4]);
  view.ssrc = load_be32(&packet[8]);

  std::size_t pos = kFixedHeaderSize;
  if (packet.size() - pos < 4u * view.csrc_count) return RtpParseError::kCsrcBeyondEnd;
  for (std::size_t i = 0; i < view.csrc_count; ++i, pos += 4)
    view.csrcs[i] = load_be32(&packet[pos]);

  if (view.has_extension) {
    if (packet.size() - pos < 4) return RtpParseError::kExtensionBeyondEnd;
    view.extension_profile = load_be16(&packet[pos]);
    const std::size_t length = 4u * load_be16(&packet[pos + 2]);
    pos += 4;
    if (packet.size() - pos < length) return RtpParseError::kExtensionBeyondEnd;
    view.extension_data = packet.subspan(pos, length);
    pos += length;
    if (view.has_one_byte_extensions() || view.has_two_byte_extensions()) {
      if (!extension_block_is_valid(view.extension_data, view.has_two_byte_extensions()))
        return RtpParseError::kBadExtension;
    }
  }
  view.header_size = pos;

  std::size_t end = packet.size();
  if (has_padding) {
    // RFC 3550 5.1: the last octet counts the padding, itself included.
    const std::size_t after_header = packet.size() - pos;
    if (after_header == 0) return RtpParseError::kBadPadding;
    const std::size_t count = packet.back();
    if (count == 0 || count > after_header) return RtpParseError::kBadPadding;
    view.padding_size = count;
    end -= count;
  }
  view.payload = packet.subspan(pos, end - pos);
  return view;
}

RtpPacketBuilder& RtpPacketBuilder::set_marker(bool marker) noexcept {
  marker_ = marker;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::set_payload_type(std::uint8_t payload_type) noexcept {
  if (payload_type > kMaxPayloadType && !error_) error_ = RtpBuildError::kBadPayloadType;
  payload_type_ = payload_type;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::set_sequence_number(std::uint16_t sequence_number) noexcept {
  sequence_number_ = sequence_number;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::set_timestamp(std::uint32_t timestamp) noexcept {
  timestamp_ = timestamp;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::set_ssrc(std::uint32_t ssrc) noexcept {
  ssrc_ = ssrc;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::add_csrc(std::uint32_t csrc) noexcept {
  if (csrc_count_ == kMaxCsrcs) {
    if (!error_) error_ = RtpBuildError::kTooManyCsrcs;
    return *this;
  }
  csrcs_[csrc_count_++] = csrc;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::add_extension(std::uint8_t id, BytesView data) noexcept {
  std::optional<RtpBuildError> problem;
  if (id == 0) {
    problem = RtpBuildError::kBadExtensionId;
  } else if (data.size() > kMaxTwoByteExtensionSize) {
    problem = RtpBuildError::kExtensionTooLong;
  } else if (extension_count_ == kMaxBuilderExtensions) {
    problem = RtpBuildError::kTooManyExtensions;
  } else {
    for (std::size_t i = 0; i < extension_count_; ++i) {
      if (extensions_[i].id == id) problem = RtpBuildError::kDuplicateExtensionId;
    }
  }
  if (problem) {
    if (!error_) error_ = problem;
    return *this;
  }
  extensions_[extension_count_++] = HeaderExtension{id, data};
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::set_payload(BytesView payload) noexcept {
  payload_ = payload;
  return *this;
}

RtpPacketBuilder& RtpPacketBuilder::set_padding(std::uint8_t padding_size) noexcept {
  padding_size_ = padding_size;
  return *this;
}

bool RtpPacketBuilder::uses_two_byte_extensions() const noexcept {
  for (std::size_t i = 0; i < extension_count_; ++i) {
    const auto& e = extensions_[i];
    if (e.id > kMaxOneByteExtensionId || e.data.empty() || e.data.size() > kMaxOneByteExtensionSize)
      return true;
  }
  return false;
}

std::size_t RtpPacketBuilder::extension_block_size() const noexcept {
  if (extension_count_ == 0) return 0;
  const std::size_t element_header = uses_two_byte_extensions() ? 2 : 1;
  std::size_t size = 0;
  for (std::size_t i = 0; i < extension_count_; ++i)
    size += element_header + extensions_[i].data.size();
  return (size + 3) / 4 * 4;
}

Expected<std::size_t, RtpBuildError> RtpPacketBuilder::size() const noexcept {
  if (error_) return *error_;
  std::size_t size = kFixedHeaderSize + 4 * csrc_count_;
  if (extension_count_ != 0) size += 4 + extension_block_size();
  return size + payload_.size() + padding_size_;
}

void RtpPacketBuilder::write_unchecked(std::uint8_t* out) const noexcept {
  out[0] = static_cast<std::uint8_t>(0x80 | (padding_size_ != 0 ? 0x20 : 0) |
                                     (extension_count_ != 0 ? 0x10 : 0) | csrc_count_);
  out[1] = static_cast<std::uint8_t>((marker_ ? 0x80 : 0) | payload_type_);
  store_be16(out + 2, sequence_number_);
  store_be32(out + 4, timestamp_);
  store_be32(out + 8, ssrc_);
  std::size_t pos = kFixedHeaderSize;
  for (std::size_t i = 0; i < csrc_count_; ++i, pos += 4) store_be32(out + pos, csrcs_[i]);

  if (extension_count_ != 0) {
    const bool two_byte = uses_two_byte_extensions();
    const std::size_t block = extension_block_size();
    store_be16(out + pos, two_byte ? kTwoByteExtensionProfile : kOneByteExtensionProfile);
    store_be16(out + pos + 2, static_cast<std::uint16_t>(block / 4));
    pos += 4;
    const std::size_t block_end = pos + block;
    for (std::size_t i = 0; i < extension_count_; ++i) {
      const auto& e = extensions_[i];
      if (two_byte) {
        out[pos++] = e.id;
        out[pos++] = static_cast<std::uint8_t>(e.data.size());
      } else {
        out[pos++] = static_cast<std::uint8_t>((e.id << 4) | (e.data.size() - 1));
      }
      if (!e.data.empty()) std::memcpy(out + pos, e.data.data(), e.data.size());
      pos += e.data.size();
    }
    // Zero bytes fill the block to a whole word; RFC 8285 reads them as padding.
    std::memset(out + pos, 0, block_end - pos);
    pos = block_end;
  }

  if (!payload_.empty()) std::memcpy(out + pos, payload_.data(), payload_.size());
  pos += payload_.size();
  if (padding_size_ != 0) {
    std::memset(out + pos, 0, padding_size_ - 1u);
    out[pos + padding_size_ - 1] = padding_size_;
  }
}

Expected<void, RtpBuildError> RtpPacketBuilder::write(Buffer& out) const {
  auto total = size();
  if (!total) return total.error();
  const std::size_t start = out.size();
  out.resize(start + *total);
  write_unchecked(out.data() + start);
  return {};
}

Expected<std::size_t, RtpBuildError> RtpPacketBuilder::write(MutableBytesView out) const noexcept {
  auto total = size();
  if (!total) return total.error();
  if (*total > out.size()) return RtpBuildError::kNoRoom;
  write_unchecked(out.data());
  return *total;
}

}  // namespace rtcpp::rtp
