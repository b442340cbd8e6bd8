// MediaSession's per-transceiver state, shared by the files that implement the session:
// media_session.cpp (negotiation, routing, receiving), media_session_send.cpp (frames out,
// retransmissions, DTMF) and media_session_rtcp.cpp (feedback and reports in and out, timers).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "pc/media_session.hpp"
#include "rtp/frame_assembler.hpp"
#include "rtp/nack_tracker.hpp"
#include "rtp/payload_formats.hpp"
#include "rtp/rtp_statistics.hpp"
#include "rtp/telephone_event.hpp"

namespace rtcpp::pc {

const Logger& media_session_log();

struct MediaSession::Stream {
  MediaBinding binding;
  std::optional<RtpCodec> codec;                    // what both sides agreed on, first choice
  std::optional<std::uint8_t> mid_id;               // the MID extension's id, when negotiated
  std::optional<std::uint8_t> audio_level_id;       // RFC 6464, when negotiated
  std::optional<std::uint8_t> csrc_audio_level_id;  // RFC 6465
  std::uint32_t local_ssrc = 0;                     // our media SSRC (also the RTCP sender's)
  std::uint32_t local_rtx_ssrc = 0;                 // our RFC 4588 repair stream's, if any
  std::uint16_t next_rtx_sequence = 0;
  // Sending.
  std::uint16_t next_sequence = 0;
  std::uint32_t timestamp_offset = 0;  // RFC 3550 5.1: a random start for the timestamps
  // Video: cuts frames of the sending codec (named by packetizer_codec) into payloads.
  std::unique_ptr<rtp::Packetizer> packetizer;
  std::string packetizer_codec;
  Buffer payload;  // the payload being written, reused
  // The last packets sent, by sequence number modulo the history's size (each slot keeps its
  // capacity, so steady sending allocates nothing for it).
  std::vector<Buffer> history;
  std::vector<std::optional<std::uint16_t>> history_sequence;
  // When each was last sent again: a packet goes again at most once a round trip.
  std::vector<std::optional<Timestamp>> history_resent;
  // Audio: the last frame's RTP timestamp and when it went, for the events' timestamps.
  std::optional<std::pair<std::uint32_t, Timestamp>> last_audio;
  Timestamp configured_at;
  // DTMF: the telephone-event format to send with, and the playout of the tones inserted.
  std::optional<RtpCodec> telephone_event;
  std::unique_ptr<rtp::DtmfSender> dtmf;
  // Receiving.
  // Video: puts frames of the codec received last back together.
  std::unique_ptr<rtp::FrameAssembler> assembler;
  std::string assembler_codec;
  std::uint64_t assembler_drops_seen = 0;
  std::optional<Timestamp> first_packet_at;
  std::string received_codec;  // of the last packet received
  std::optional<std::uint8_t> received_payload_type;
  // The sources of the packets received (a handful: an SSRC, and the CSRCs of a mixer).
  std::vector<MediaSource> synchronization_sources;
  std::vector<MediaSource> contributing_sources;
  std::optional<Timestamp> last_pli;
  // Video with NACK negotiated for some of its formats: the packets missing, to ask for.
  std::vector<std::uint8_t> nack_payload_types;
  std::optional<rtp::NackTracker> nack;
  // The peer's telephone events, by the clock rate of their format.
  rtp::TelephoneEventReceiver tone_receiver;
  // RFC 3550 statistics: of what we send, and of the peer's stream we receive.
  std::optional<rtp::SendStatistics> sent;
  std::optional<rtp::ReceiveStatistics> received;
  MediaStreamStats stats;
};

}  // namespace rtcpp::pc
