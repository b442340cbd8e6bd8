// SDP (RFC 8866): a faithful model of a session description, a strict parser for hostile
// input and a writer. The JSEP layer (RFC 8829) reads and builds WebRTC descriptions on top
// of it; audio and video sections are kept whole for the media milestone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rtcpp/error.hpp"

namespace rtcpp::sdp {

// Limits that bound the memory and time a hostile description can cost.
inline constexpr std::size_t kMaxDescriptionSize = 256 * 1024;
inline constexpr std::size_t kMaxLineLength = 8 * 1024;
inline constexpr std::size_t kMaxMediaSections = 512;
inline constexpr std::size_t kMaxAttributesPerSection = 2048;

// "a=name" or "a=name:value".
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

// o= (RFC 8866 5.2).
struct Origin {
  std::string username = "-";
  std::string session_id = "0";  // digits; kept as text (may exceed 64 bits in the wild)
  std::string session_version = "0";
  std::string network_type = "IN";
  std::string address_type = "IP4";
  std::string address = "127.0.0.1";
  friend bool operator==(const Origin&, const Origin&) = default;
};

// c= (RFC 8866 5.7).
struct Connection {
  std::string network_type = "IN";
  std::string address_type = "IP4";
  std::string address = "0.0.0.0";
  friend bool operator==(const Connection&, const Connection&) = default;
};

// Attribute lists shared by the session level and each media section.
class AttributeList {
 public:
  std::vector<Attribute>& all() noexcept { return attributes_; }
  const std::vector<Attribute>& all() const noexcept { return attributes_; }
  // The first attribute with this name.
  const Attribute* find(std::string_view name) const noexcept;
  bool has(std::string_view name) const noexcept { return find(name) != nullptr; }
  // The value of the first attribute with this name ("" for a flag attribute).
  std::optional<std::string_view> value(std::string_view name) const noexcept;
  // The values of every attribute with this name, in order.
  std::vector<std::string_view> values(std::string_view name) const;
  void add(std::string name, std::optional<std::string> value = std::nullopt) {
    attributes_.push_back({std::move(name), std::move(value)});
  }
  // Removes every attribute with this name; returns how many.
  std::size_t remove(std::string_view name);
  friend bool operator==(const AttributeList&, const AttributeList&) = default;

 private:
  std::vector<Attribute> attributes_;
};

// An m= section with its lines (RFC 8866 5.14).
struct MediaDescription {
  std::string media;  // "audio", "video", "application", ...
  std::uint16_t port = 9;
  std::optional<std::uint16_t> port_count;
  std::string protocol;              // "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ...
  std::vector<std::string> formats;  // payload types, or "webrtc-datachannel"
  std::optional<std::string> information;
  std::vector<Connection> connections;
  std::vector<std::string> bandwidths;  // "AS:256"
  std::optional<std::string> key;
  AttributeList attributes;
  friend bool operator==(const MediaDescription&, const MediaDescription&) = default;
};

// t= with its r= lines.
struct Timing {
  std::string start = "0";
  std::string stop = "0";
  std::vector<std::string> repeats;
  friend bool operator==(const Timing&, const Timing&) = default;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::optional<std::string> information;
  std::optional<std::string> uri;
  std::vector<std::string> emails;
  std::vector<std::string> phones;
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;
  std::vector<Timing> timings{Timing{}};
  std::optional<std::string> zone;
  std::optional<std::string> key;
  AttributeList attributes;
  std::vector<MediaDescription> media;

  // Parses a description. Lines may end in CRLF or LF. Errors are OperationError with
  // errorDetail "sdp-syntax-error" and sdp_line_number set, as the W3C API reports them.
  static Result<SessionDescription> parse(std::string_view text);
  // RFC 8866 text with CRLF line endings.
  std::string to_string() const;

  friend bool operator==(const SessionDescription&, const SessionDescription&) = default;
};

}  // namespace rtcpp::sdp
