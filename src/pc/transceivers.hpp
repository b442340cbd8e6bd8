// The transceivers of a connection and their m= sections (W3C 5.4, JSEP 5.2-5.3, 5.10): the
// list owns which section each transceiver is associated with, from the first description
// that places it, whether or not media flows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc/jsep.hpp"

namespace rtcpp::pc {

struct Transceiver {
  std::uint32_t handle = 0;  // stable for the transceiver's life
  MediaKind kind = MediaKind::kAudio;
  std::optional<std::string> mid;  // set once a description associates it with a section
  RtpDirection direction = RtpDirection::kSendRecv;
  std::optional<RtpDirection> current_direction;  // the last negotiated direction
  bool stopping = false;
  bool stopped = false;
  // Made by applying a remote offer that has not been answered yet: a rollback removes it.
  bool from_pending_remote_offer = false;
  // The sender's identity in our descriptions (RFC 5576 a=ssrc, RFC 8830 a=msid), assigned
  // by the connection when the transceiver is made.
  std::uint32_t ssrc = 0;
  // RFC 4588: the SSRC of the sender's repair stream, paired with `ssrc` by a=ssrc-group:FID
  // where a format with RTX is offered or answered.
  std::uint32_t rtx_ssrc = 0;
  std::string track_id;
  // W3C [[AssociatedMediaStreamIds]]: the streams our a=msid lines put the sender's track in.
  std::vector<std::string> stream_ids;
  // The stream ids our last applied local description wrote (W3C 4.7.3 compares them).
  std::optional<std::vector<std::string>> local_stream_ids;
  // A negotiation has had it send: W3C addTrack reuses only senders that never sent.
  bool has_sent = false;
  // W3C 4.4.1.6 [[FiredDirection]] receives: the track event fired for its receiver, and no
  // removal of the remote track since.
  bool track_fired = false;
  // The direction our last applied local description wrote for its section (W3C 4.7.3
  // compares it with `direction` to decide whether negotiation is needed).
  std::optional<RtpDirection> local_direction;
  // The streams the peer's a=msid puts its track in (none for "-").
  std::vector<std::string> remote_stream_ids;
  // W3C [[PreferredCodecs]] (setCodecPreferences); empty: rtcpp's own order.
  std::vector<CodecPreference> codec_preferences;
};

class TransceiverList {
 public:
  std::uint32_t add(MediaKind kind, RtpDirection direction);
  Transceiver* find(std::uint32_t handle);
  const Transceiver* find(std::uint32_t handle) const;
  Transceiver* find_mid(std::string_view mid);
  const Transceiver* find_mid(std::string_view mid) const;
  const std::vector<Transceiver>& all() const noexcept { return transceivers_; }
  std::vector<Transceiver>& all() noexcept { return transceivers_; }

  // JSEP 5.10, applying a remote offer's media section: the transceiver already associated
  // with its mid, else a new recvonly one of its kind (made "pending": removed by a rollback).
  std::uint32_t associate_remote(MediaKind kind, const std::string& mid);
  // W3C 4.4.1.6: a rejected section stops its transceiver; an accepted one sets its current
  // direction (the direction we wrote in our description).
  void apply_negotiated(std::uint32_t handle, bool rejected, RtpDirection local_direction);
  // W3C stop(): stopping now, stopped once a negotiation rejects its section (at once when no
  // description placed it yet).
  void stop(std::uint32_t handle);
  // W3C 4.4.1.6, applying an answer: stopped transceivers leave the set.
  void remove_stopped();
  // The remote offer was answered: its transceivers stay.
  void commit_remote_offer();
  // The remote offer was rolled back: what it made goes, and mids it gave are taken back.
  void roll_back_remote_offer(std::span<const std::string> mids_before);

 private:
  std::vector<Transceiver> transceivers_;
  std::uint32_t next_handle_ = 1;
};

// JSEP 5.2.1-5.2.2: the sections of our next offer. Every section of `previous` (the
// negotiated layout) keeps its place; a stopping or stopped transceiver's section is
// rejected; a transceiver without a section takes a rejected section of its kind (recycled
// under a new mid) or a new one at the end; the data section is always there (data channels
// can be made at any time), recycled or appended likewise.
std::vector<MSection> plan_offer(std::span<const MSection> previous,
                                 const TransceiverList& transceivers);

}  // namespace rtcpp::pc
