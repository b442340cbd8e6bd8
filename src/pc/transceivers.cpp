#include "pc/transceivers.hpp"

#include <algorithm>

namespace rtcpp::pc {

std::uint32_t TransceiverList::add(MediaKind kind, RtpDirection direction) {
  Transceiver t;
  t.handle = next_handle_++;
  t.kind = kind;
  t.direction = direction;
  transceivers_.push_back(std::move(t));
  return transceivers_.back().handle;
}

Transceiver* TransceiverList::find(std::uint32_t handle) {
  for (auto& t : transceivers_) {
    if (t.handle == handle) return &t;
  }
  return nullptr;
}

const Transceiver* TransceiverList::find(std::uint32_t handle) const {
  return const_cast<TransceiverList*>(this)->find(handle);
}

Transceiver* TransceiverList::find_mid(std::string_view mid) {
  for (auto& t : transceivers_) {
    if (t.mid && *t.mid == mid) return &t;
  }
  return nullptr;
}

const Transceiver* TransceiverList::find_mid(std::string_view mid) const {
  return const_cast<TransceiverList*>(this)->find_mid(mid);
}

std::uint32_t TransceiverList::associate_remote(MediaKind kind, const std::string& mid) {
  if (auto* t = find_mid(mid)) return t->handle;
  const auto handle = add(kind, RtpDirection::kRecvOnly);
  Transceiver& t = *find(handle);
  t.mid = mid;
  t.from_pending_remote_offer = true;
  return handle;
}

void TransceiverList::apply_negotiated(std::uint32_t handle, bool rejected,
                                       RtpDirection local_direction) {
  Transceiver* t = find(handle);
  if (t == nullptr) return;
  if (rejected) {
    t->stopping = true;
    t->stopped = true;
    t->current_direction.reset();
    return;
  }
  t->current_direction = local_direction;
  if (sends(local_direction)) t->has_sent = true;
}

void TransceiverList::stop(std::uint32_t handle) {
  Transceiver* t = find(handle);
  if (t == nullptr) return;
  t->stopping = true;
  // A transceiver no description placed has no section to reject: nothing to negotiate.
  if (!t->mid) t->stopped = true;
}

void TransceiverList::remove_stopped() {
  std::erase_if(transceivers_, [](const Transceiver& t) { return t.stopped; });
}

void TransceiverList::commit_remote_offer() {
  for (auto& t : transceivers_) t.from_pending_remote_offer = false;
}

void TransceiverList::roll_back_remote_offer(std::span<const std::string> mids_before) {
  std::erase_if(transceivers_, [](const Transceiver& t) { return t.from_pending_remote_offer; });
  for (auto& t : transceivers_) {
    if (t.mid && std::find(mids_before.begin(), mids_before.end(), *t.mid) == mids_before.end())
      t.mid.reset();
  }
}

std::vector<MSection> plan_offer(std::span<const MSection> previous,
                                 const TransceiverList& transceivers) {
  // JSEP 5.2.2: a later offer keeps every section in its place.
  std::vector<MSection> sections(previous.begin(), previous.end());
  for (auto& s : sections) {
    if (!s.transceiver || s.rejected) continue;
    const auto* t = transceivers.find(*s.transceiver);
    // A stopping or stopped transceiver's section is rejected (JSEP 5.2.2).
    if (t == nullptr || t->stopping || t->stopped) {
      s.rejected = true;
      s.direction = RtpDirection::kInactive;
    } else {
      s.direction = t->direction;
    }
  }
  // New transceivers take a rejected section of their kind (recycled, with a new mid), or a
  // section of their own at the end.
  for (const auto& t : transceivers.all()) {
    if (t.stopping || t.stopped || t.mid) continue;
    const bool placed = std::any_of(sections.begin(), sections.end(),
                                    [&](const MSection& s) { return s.transceiver == t.handle; });
    if (placed) continue;
    auto fresh = media_section(t.kind, unused_mid(sections), t.handle, t.direction);
    auto recycled = std::find_if(sections.begin(), sections.end(),
                                 [&](const MSection& s) { return s.rejected && s.kind == t.kind; });
    if (recycled != sections.end()) {
      *recycled = std::move(fresh);
    } else {
      sections.push_back(std::move(fresh));
    }
  }
  // Our offers always carry the data section (data channels can be made at any time).
  const bool has_data = std::any_of(sections.begin(), sections.end(),
                                    [](const MSection& s) { return s.data && !s.rejected; });
  if (!has_data) {
    auto fresh = data_section(unused_mid(sections));
    auto recycled = std::find_if(sections.begin(), sections.end(), [](const MSection& s) {
      return s.rejected && s.kind == MediaKind::kApplication;
    });
    if (recycled != sections.end()) {
      *recycled = std::move(fresh);
    } else {
      sections.push_back(std::move(fresh));
    }
  }
  return sections;
}

}  // namespace rtcpp::pc
