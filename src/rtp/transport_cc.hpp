// Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01),
// both halves, sans-IO. Every RTP packet of the transport carries a transport-wide sequence
// number (an RTP header extension); the receiver reports which of them arrived and when, and
// the sender matches those reports with when it sent each packet: the input a delay-based
// bandwidth estimator (libwebrtc's, or ours later) runs on.
//
// TransportCcReceiver records arrivals and writes the feedback messages (rtp/rtcp_packet.hpp
// TransportFeedback), about every 100 ms as libwebrtc does. TransportCcSender numbers the
// packets sent, keeps their send times and sizes for a while, and turns each feedback message
// into per-packet results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/time.hpp"
#include "rtp/rtcp_packet.hpp"

namespace rtcpp::rtp {

class TransportCcReceiver {
 public:
  // How often feedback goes while packets arrive.
  static constexpr Duration kFeedbackInterval = Duration::millis(100);
  // Sequence numbers remembered back from the newest; a late packet older than that, or a
  // jump forward by more, forgets what lies beyond.
  static constexpr std::size_t kWindow = 8192;
  // The largest message written: well inside one packet with the SRTCP overhead.
  static constexpr std::size_t kMaxMessageSize = 1000;

  TransportCcReceiver();

  // A packet with this transport-wide sequence number arrived (from `media_ssrc`: the feedback
  // names the last one, which libwebrtc checks against its senders). Duplicates are ignored.
  void on_packet(std::uint16_t sequence, Timestamp arrival, std::uint32_t media_ssrc);
  // Whether feedback is due at `now`: something arrived that was not reported, and the
  // interval since the last feedback has passed.
  bool feedback_due(Timestamp now) const;
  // When feedback_due() will be true; nothing while nothing waits to be reported.
  std::optional<Timestamp> next_feedback() const;
  // The messages reporting everything from the first unreported sequence number to the
  // newest (packets missing in between as not received), each within kMaxMessageSize; empty
  // when nothing waits. A packet that arrives after a message called it lost is reported
  // again (with those after it) in the next one.
  std::vector<TransportFeedback> take_feedback(std::uint32_t sender_ssrc, Timestamp now);

  std::uint64_t packets_recorded() const noexcept { return packets_recorded_; }
  std::uint64_t messages_written() const noexcept { return messages_written_; }

 private:
  // A slot holds the arrival of the sequence number it names; a slot naming another one (a
  // window back, or none) means not received, so that a jump forward clears nothing.
  struct Arrival {
    std::int64_t sequence = -1;  // unwrapped
    Timestamp at;
  };
  std::int64_t unwrap(std::uint16_t sequence) const noexcept;
  Arrival& slot(std::int64_t sequence) noexcept;
  const Arrival* arrival_of(std::int64_t sequence) const noexcept;

  std::vector<Arrival> arrivals_;  // by sequence % kWindow
  std::int64_t begin_ = 0;         // first unreported sequence (unwrapped)
  std::int64_t end_ = 0;           // one past the newest received
  bool started_ = false;
  std::uint32_t media_ssrc_ = 0;
  std::uint8_t feedback_count_ = 0;
  std::optional<Timestamp> last_feedback_;
  std::uint64_t packets_recorded_ = 0;
  std::uint64_t messages_written_ = 0;
};

// What a feedback message said about one packet we sent.
struct TransportPacketResult {
  std::uint16_t sequence = 0;
  std::size_t size = 0;  // bytes, as handed to the transport
  Timestamp sent;
  // When it arrived, on the receiver's clock (only differences between arrivals mean
  // anything); nothing when the receiver did not get it.
  std::optional<Timestamp> arrival;
};

class TransportCcSender {
 public:
  // Packets remembered for the feedback that will name them: a few seconds of video.
  static constexpr std::size_t kHistory = 8192;

  TransportCcSender();

  // The transport-wide sequence number the next packet sent carries.
  std::uint16_t next_sequence() const noexcept { return static_cast<std::uint16_t>(next_); }
  // That packet went out, `size` bytes: recorded under next_sequence(), which moves on.
  void on_packet_sent(std::size_t size, Timestamp now);
  // The packets a feedback message reports, in sequence order: those we remember sending,
  // once each (a packet reported again as received after being reported lost counts now as
  // received; one already reported received is not repeated).
  std::vector<TransportPacketResult> on_feedback(const TransportFeedback& feedback);

  std::uint64_t feedback_received() const noexcept { return feedback_received_; }
  std::uint64_t packets_reported_received() const noexcept { return reported_received_; }
  std::uint64_t packets_reported_lost() const noexcept { return reported_lost_; }

 private:
  struct Sent {
    std::int64_t sequence = -1;  // unwrapped; -1 for an empty slot
    std::size_t size = 0;
    Timestamp sent;
    bool reported_received = false;
    bool reported_lost = false;
  };
  std::vector<Sent> sent_;
  std::int64_t next_ = 1;                       // unwrapped, of the next packet
  std::optional<std::int64_t> last_reference_;  // unwrapped, of the last feedback
  std::uint64_t feedback_received_ = 0;
  std::uint64_t reported_received_ = 0;
  std::uint64_t reported_lost_ = 0;
};

}  // namespace rtcpp::rtp
