#include "rtp/frame_assembler.hpp"

#include <algorithm>
#include <limits>

namespace rtcpp::rtp {

namespace {
constexpr std::int64_t kEmptySlot = std::numeric_limits<std::int64_t>::min();
}  // namespace

FrameAssembler::FrameAssembler(std::unique_ptr<const PayloadFormat> format,
                               FrameAssemblerConfig config)
    : format_(std::move(format)),
      config_(config),
      slots_(std::max<std::size_t>(config.max_pending_packets, 1)) {
  for (auto& s : slots_) s.sequence = kEmptySlot;
}

FrameAssembler::Slot* FrameAssembler::slot(std::int64_t sequence) noexcept {
  const auto count = static_cast<std::int64_t>(slots_.size());
  Slot& s = slots_[static_cast<std::size_t>(((sequence % count) + count) % count)];
  return s.sequence == sequence ? &s : nullptr;
}

const FrameAssembler::Slot* FrameAssembler::slot(std::int64_t sequence) const noexcept {
  return const_cast<FrameAssembler*>(this)->slot(sequence);  // NOLINT(*-const-cast)
}

Expected<void, PayloadError> FrameAssembler::insert(std::uint16_t sequence_number,
                                                    std::uint32_t timestamp, bool marker,
                                                    BytesView payload) {
  auto position = format_->inspect(payload);
  if (!position) {
    ++stats_.packets_rejected;
    return position.error();
  }
  const std::int64_t sequence = unwrapper_.unwrap(sequence_number);
  if ((consumed_through_ && sequence <= *consumed_through_) || slot(sequence) != nullptr) {
    ++stats_.packets_late;
    return {};
  }
  const auto window = static_cast<std::int64_t>(slots_.size());
  if (pending_packets_ > 0 && sequence < lowest_ && highest_ - sequence >= window) {
    ++stats_.packets_late;  // older than anything the window can hold beside what it holds
    return {};
  }
  bool dropped = false;
  while (pending_packets_ > 0 && sequence - lowest_ >= window) {
    drop_oldest_frame();
    dropped = true;
  }
  const auto count = static_cast<std::int64_t>(slots_.size());
  Slot& s = slots_[static_cast<std::size_t>(((sequence % count) + count) % count)];
  s.sequence = sequence;
  s.timestamp = timestamp;
  s.marker = marker;
  s.position = *position;
  s.key_frame.reset();
  s.payload.assign(payload);
  pending_bytes_ += payload.size();
  if (pending_packets_++ == 0) {
    lowest_ = highest_ = sequence;
  } else {
    lowest_ = std::min(lowest_, sequence);
    highest_ = std::max(highest_, sequence);
  }
  while (pending_packets_ > 0 && pending_bytes_ > config_.max_pending_bytes) {
    drop_oldest_frame();
    dropped = true;
  }
  // Nothing else can have changed what assemble() decided last time: this packet completes
  // its own frame, or (ending one) lets the next frame's first packet be known as such.
  if (dropped || completes_frame(sequence) || completes_frame(sequence + 1)) assemble();
  return {};
}

FrameAssembler::Start FrameAssembler::starts_frame(std::int64_t sequence) const noexcept {
  const Slot* s = slot(sequence);
  switch (s->position) {
    case FramePosition::kStart:
      return Start::kYes;
    case FramePosition::kContinue:
      return Start::kNo;
    case FramePosition::kUnknown:
      break;
  }
  if (const Slot* previous = slot(sequence - 1)) {
    return previous->marker || previous->timestamp != s->timestamp ? Start::kYes : Start::kNo;
  }
  if (consumed_through_ && *consumed_through_ == sequence - 1 && consumed_clean_)
    return Start::kYes;
  return Start::kMaybe;
}

bool FrameAssembler::completes_frame(std::int64_t sequence) const noexcept {
  const Slot* at = slot(sequence);
  if (at == nullptr) return false;
  const std::uint32_t timestamp = at->timestamp;
  // Forward to the marker, then back to the start, through consecutive packets of one
  // timestamp (the same run find_complete_frames() looks for).
  std::int64_t it = sequence;
  while (!slot(it)->marker) {
    const Slot* next = slot(it + 1);
    if (next == nullptr || next->timestamp != timestamp || starts_frame(it + 1) != Start::kNo)
      return false;
    ++it;
  }
  it = sequence;
  while (starts_frame(it) == Start::kNo) {
    const Slot* previous = slot(it - 1);
    if (previous == nullptr || previous->timestamp != timestamp || previous->marker) return false;
    --it;
  }
  return true;
}

void FrameAssembler::find_complete_frames() {
  complete_.clear();
  if (pending_packets_ == 0) return;
  for (std::int64_t it = lowest_; it <= highest_; ++it) {
    const Slot* first = slot(it);
    if (first == nullptr) continue;
    const Start start = starts_frame(it);
    if (start == Start::kNo) continue;
    // Walk forward while the sequence numbers follow on with one timestamp, until the marker
    // bit; a gap, a new start or a timestamp change leaves the frame incomplete.
    const std::int64_t begin = it;
    bool complete = false;
    while (true) {
      if (slot(it)->marker) {
        complete = true;
        break;
      }
      const Slot* next = slot(it + 1);
      if (next == nullptr || next->timestamp != first->timestamp ||
          starts_frame(it + 1) != Start::kNo)
        break;
      ++it;
    }
    if (complete) complete_.push_back({begin, it, start});
  }
}

Expected<AssembledFrameInfo, PayloadError> FrameAssembler::join(const CompleteFrame& frame,
                                                                Buffer& out) {
  views_.clear();
  std::size_t size = 0;
  for (std::int64_t it = frame.first; it <= frame.last; ++it) {
    views_.push_back(slot(it)->payload.view());
    size += views_.back().size();
  }
  out.clear();
  out.reserve(size);
  return format_->assemble(views_, out);
}

void FrameAssembler::assemble() {
  while (true) {
    find_complete_frames();
    if (complete_.empty()) return;
    const CompleteFrame front = complete_.front();
    if (consumed_through_ && front.first == *consumed_through_ + 1) {
      // It follows on from what was taken last. After a loss, a frame whose start cannot be
      // told is dropped: its first packets may be the ones lost.
      if (front.start == Start::kMaybe) {
        take(front, false);
        continue;
      }
      Buffer data;
      auto info = join(front, data);
      if (!info) {
        ++stats_.frames_broken;
        take(front, false);
        waiting_for_key_frame_ = true;
        continue;
      }
      if (info->key_frame) waiting_for_key_frame_ = false;
      take(front, !waiting_for_key_frame_, &data, &*info);
      continue;
    }
    // While waiting for a key frame, one is taken wherever it is: nothing older matters then.
    if (waiting_for_key_frame_) {
      std::optional<CompleteFrame> chosen;
      Buffer data;
      AssembledFrameInfo info;
      for (const auto& frame : complete_) {
        if (frame.start != Start::kYes) continue;
        Slot* first = slot(frame.first);
        if (first->key_frame == false) continue;
        auto joined = join(frame, data);
        first->key_frame = joined && joined->key_frame;
        if (*first->key_frame) {
          chosen = frame;
          info = *joined;
          break;
        }
      }
      if (chosen) {
        drop_before(chosen->first);
        waiting_for_key_frame_ = false;
        take(*chosen, true, &data, &info);
        continue;
      }
    }
    // Otherwise a frame behind a gap waits, in case the gap is only reordering (or a
    // retransmission is on its way), until too many do, or for too long: then what the gap
    // lacks is lost.
    if (!gap_waited_too_long()) return;
    drop_before(front.first);
    waiting_for_key_frame_ = true;
  }
}

bool FrameAssembler::gap_waited_too_long() const noexcept {
  if (complete_.size() > config_.max_frames_behind_gap) return true;
  if (config_.max_wait_behind_gap == 0 || complete_.empty()) return false;
  // From the oldest packet held (of the frame with the gap, when any of it came) to the newest
  // complete frame. Frames come in timestamp order; one that goes back (a sender's restart)
  // makes no wait longer.
  const Slot* oldest = slot(lowest_);
  if (oldest == nullptr) oldest = slot(complete_.front().first);
  const auto span =
      static_cast<std::int32_t>(slot(complete_.back().first)->timestamp - oldest->timestamp);
  return span > 0 && static_cast<std::uint32_t>(span) > config_.max_wait_behind_gap;
}

void FrameAssembler::take(const CompleteFrame& frame, bool deliver, Buffer* joined,
                          const AssembledFrameInfo* info) {
  if (deliver && joined != nullptr && info != nullptr) {
    AssembledFrame out;
    out.rtp_timestamp = slot(frame.first)->timestamp;
    out.key_frame = info->key_frame;
    out.width = info->width;
    out.height = info->height;
    out.first_sequence = frame.first;
    out.last_sequence = frame.last;
    out.data = std::move(*joined);
    ready_.push_back(std::move(out));
    ++stats_.frames_delivered;
  } else {
    ++stats_.frames_dropped;
  }
  for (std::int64_t it = frame.first; it <= frame.last; ++it) erase(it);
  consumed_through_ = frame.last;
  consumed_clean_ = true;
}

void FrameAssembler::erase(std::int64_t sequence) noexcept {
  Slot* s = slot(sequence);
  if (s == nullptr) return;
  pending_bytes_ -= s->payload.size();
  s->payload.clear();
  s->sequence = kEmptySlot;
  if (--pending_packets_ == 0) return;
  while (slot(lowest_) == nullptr) ++lowest_;
  while (slot(highest_) == nullptr) --highest_;
}

void FrameAssembler::drop_before(std::int64_t sequence) {
  std::optional<std::uint32_t> last_timestamp;
  while (pending_packets_ > 0 && lowest_ < sequence) {
    const Slot* s = slot(lowest_);
    if (s->timestamp != last_timestamp) ++stats_.frames_dropped;
    last_timestamp = s->timestamp;
    erase(lowest_);
  }
  if (!consumed_through_ || *consumed_through_ < sequence - 1) {
    consumed_through_ = sequence - 1;
    consumed_clean_ = false;
  }
}

void FrameAssembler::drop_oldest_frame() {
  // The oldest frame is the run of pending packets at the front that share a timestamp.
  const std::uint32_t timestamp = slot(lowest_)->timestamp;
  std::int64_t through = lowest_;
  for (std::int64_t it = lowest_; it <= highest_; ++it) {
    const Slot* s = slot(it);
    if (s == nullptr) continue;
    if (s->timestamp != timestamp) break;
    through = it;
  }
  drop_before(through + 1);
  waiting_for_key_frame_ = true;
}

std::optional<AssembledFrame> FrameAssembler::poll_frame() {
  if (ready_.empty()) return std::nullopt;
  AssembledFrame frame = std::move(ready_.front());
  ready_.pop_front();
  return frame;
}

}  // namespace rtcpp::rtp
