// The private state shared by an RTCRtpTransceiver and its sender and receiver. Touched only
// on the connection's loop thread, except the fields fixed at creation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/media_coders.hpp"
#include "rtcpp/rtp_transceiver.hpp"

namespace rtcpp::detail {

class PeerConnectionImpl;

struct TransceiverState {
  std::weak_ptr<PeerConnectionImpl> pc;
  std::uint32_t handle = 0;  // the transceiver in the connection core
  std::string kind;          // "audio" or "video"
  std::shared_ptr<MediaStreamTrack> sender_track;
  std::shared_ptr<MediaStreamTrack> receiver_track;
  // W3C [[AssociatedRemoteMediaStreams]] of the receiver.
  std::vector<std::shared_ptr<MediaStream>> remote_streams;
  // W3C 5.2 [[SendEncodings]] and [[LastReturnedParameters]].
  std::vector<RTCRtpEncodingParameters> encodings{RTCRtpEncodingParameters{}};
  std::optional<RTCRtpSendParameters> last_returned;
  std::uint64_t transactions = 0;
  std::function<void(const RTCEncodedFrame&)> on_encoded_frame;
  std::function<void()> on_key_frame_request;
  std::function<void(const RTCDTMFToneChangeEvent&)> on_tone_change;
  std::function<void(const RTCDTMFToneReceivedEvent&)> on_dtmf_tone;
  std::function<void(const VideoFrame&)> on_video_frame;
  std::function<void(const AudioFrame&)> on_audio_frame;
  // The raw-media encoder (used on the sending application's threads, under its own lock)
  // and decoder (loop thread); fixed at creation.
  std::shared_ptr<SendCoder> send_coder = std::make_shared<SendCoder>();
  std::shared_ptr<ReceiveCoder> receive_coder = std::make_shared<ReceiveCoder>();
};

}  // namespace rtcpp::detail
