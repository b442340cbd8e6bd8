#include <cstring>
#include <new>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp {

Expected<void, ReadError> ByteReader::read_into(MutableBytesView out) noexcept {
  if (remaining() < out.size()) return ReadError::kTruncated;
  if (!out.empty()) std::memcpy(out.data(), input_.data() + position_, out.size());
  position_ += out.size();
  return {};
}

std::uint8_t* ByteWriter::reserve(std::size_t count) noexcept {
  if (!ok_) return nullptr;
  if (growing_ != nullptr) {
    try {
      growing_->resize(position_ + count);
    } catch (const std::bad_alloc&) {
      ok_ = false;
      return nullptr;
    }
  } else if (fixed_.size() - position_ < count) {
    ok_ = false;
    return nullptr;
  }
  std::uint8_t* dst = at(position_);
  position_ += count;
  return dst;
}

bool ByteWriter::patch_u16(std::size_t offset, std::uint16_t v) noexcept {
  if (offset > position_ || position_ - offset < 2) return false;
  store_be16(at(offset), v);
  return true;
}

bool ByteWriter::patch_u32(std::size_t offset, std::uint32_t v) noexcept {
  if (offset > position_ || position_ - offset < 4) return false;
  store_be32(at(offset), v);
  return true;
}

}  // namespace rtcpp
