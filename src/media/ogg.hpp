// Ogg (RFC 3533) pages and packets, and Ogg Opus files (RFC 7845) on top of them.
//
// An Ogg stream is a run of pages. Each page (RFC 3533 6), all fields little-endian:
//   'OggS' | version (8) = 0 | header type (8) | granule position (64) | serial (32) |
//   page sequence (32) | CRC (32) | segment count (8) | segment table (count bytes) | body
// Header type bits: 0x01 the first packet continues one from the previous page, 0x02 first
// page of the logical stream (BOS), 0x04 last page (EOS). The CRC is Ogg's own CRC-32
// (polynomial 0x04c11db7, not reflected, initial value 0, no final xor) over the whole page
// with the CRC field zeroed.
// Packets are laced into the body: the segment table lists lace sizes of 0-255 bytes, and a
// lace below 255 ends a packet; so a packet of a multiple of 255 bytes ends with a 0 lace,
// and a packet whose last lace is 255 goes on in the next page (with the continued flag).
// The granule position is the codec's time at the end of the last packet that ends on the
// page, or -1 when none does.
//
// Ogg Opus (RFC 7845): one logical stream whose first page holds only the ID header
// (OpusHead, 5.1), then the comment header (OpusTags, 5.2) ending its page, then the audio
// packets, one Opus packet each. Granule positions count 48 kHz samples, including the
// pre-skip the decoder drops at the start (RFC 7845 4).
//
// OggPageParser and OggPacketAssembler are sans-IO; OggOpusDemuxer puts them together for a
// stream of bytes; OggOpusParser reads one held in memory, and OggOpusFileReader and
// OggOpusFileWriter put it on files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

inline constexpr std::size_t kOggPageHeaderSize = 27;
inline constexpr std::size_t kMaxOggSegments = 255;
inline constexpr std::size_t kMaxOggPageSize =
    kOggPageHeaderSize + kMaxOggSegments + kMaxOggSegments * 255;
// The granule position of a page on which no packet ends.
inline constexpr std::uint64_t kOggNoGranule = ~std::uint64_t{0};
// The largest packet reassembled (an Opus packet is at most about 61 kB; an OpusTags header
// with cover art could be larger, and is refused).
inline constexpr std::size_t kMaxOggPacketSize = 1u << 20;
// The most pages one packet may span (a 1 MiB packet needs 17 full pages).
inline constexpr std::size_t kMaxOggPagesPerPacket = 32;

enum class OggError : std::uint8_t {
  kTruncated,           // the input ends inside a page (or before the headers)
  kBadCapture,          // no 'OggS' where a page should start
  kBadVersion,          // a stream structure version other than 0
  kBadCrc,              // the page's CRC does not match
  kBadSequence,         // a page sequence number out of order (a page lost or repeated)
  kBadContinuation,     // a continued page with no packet to continue, or a packet cut short
  kPacketTooLarge,      // a packet above kMaxOggPacketSize
  kTooManyPages,        // a packet spanning more than kMaxOggPagesPerPacket pages
  kSecondStream,        // a page of another logical stream (multiplexed or chained)
  kAfterEnd,            // a page after the EOS page
  kNoOpusHead,          // the stream does not start with an OpusHead page (BOS, alone)
  kBadOpusHead,         // an OpusHead that is short or has bad fields
  kUnsupportedMapping,  // a channel mapping family other than 0 and 1
  kNoOpusTags,          // no OpusTags packet after OpusHead, or it does not end its page
  kBadOpusTags,         // an OpusTags packet whose lengths run past it
  kBadOpusPacket,       // an audio packet that is not valid Opus framing (RFC 6716 3.4)
  kIo,                  // the file could not be opened, read or written
  kClosed,              // the writer was closed (or never opened)
};
std::string_view to_string(OggError error) noexcept;

// Ogg's CRC-32 of `data`, continuing from `crc` (0 to start).
std::uint32_t ogg_crc(BytesView data, std::uint32_t crc = 0) noexcept;

struct OggPageHeader {
  bool continued = false;  // 0x01
  bool bos = false;        // 0x02
  bool eos = false;        // 0x04
  std::uint64_t granule_position = kOggNoGranule;
  std::uint32_t serial = 0;
  std::uint32_t sequence = 0;
  friend bool operator==(const OggPageHeader&, const OggPageHeader&) = default;
};

// One parsed page: views into the bytes it was parsed from.
struct OggPage {
  OggPageHeader header;
  BytesView segment_table;
  BytesView body;
  std::size_t size = 0;  // the whole page's bytes
};

// Parses the page at the start of `input` and checks its CRC. kTruncated when the input
// holds only part of a page. Header type bits other than the three are ignored.
Expected<OggPage, OggError> parse_ogg_page(BytesView input) noexcept;
// Appends a page with its CRC. The segment table must describe the body (at most 255 laces
// summing to body.size()); false (nothing written) otherwise.
bool write_ogg_page(const OggPageHeader& header, BytesView segment_table, BytesView body,
                    Buffer& out);
// The lacing of a packet of `size` bytes: size / 255 laces of 255, then one of size % 255
// (0 for a multiple of 255).
std::size_t ogg_lace_count(std::size_t size) noexcept;

// Cuts a byte stream into pages, holding at most one page (kMaxOggPageSize bytes). feed()
// takes bytes up to the end of the current page; once page_ready(), take_page() checks and
// returns it (views valid until the next feed()), and feed() starts on the next.
class OggPageParser {
 public:
  // How many of `bytes` were taken; an error when the bytes cannot start a page (no 'OggS',
  // a version other than 0). After an error the parser takes nothing more.
  Expected<std::size_t, OggError> feed(BytesView bytes);
  bool page_ready() const noexcept { return ready_ && !taken_; }
  // The page, checked (CRC). Call once per page.
  Expected<OggPage, OggError> take_page();
  // Whether a page has been started and not finished (the input ended inside it).
  bool mid_page() const noexcept { return !buffer_.empty() && !ready_; }

 private:
  std::size_t needed() const noexcept;
  Buffer buffer_;
  bool ready_ = false;
  bool taken_ = false;
  bool failed_ = false;
};

// One reassembled packet: a view valid until the next push_page().
struct OggPacket {
  BytesView data;
  // The page's granule position when this is the last packet ending on the page, else
  // kOggNoGranule.
  std::uint64_t granule_position = kOggNoGranule;
  std::uint32_t page_sequence = 0;  // of the page it ends on
  bool last_on_page = false;
};

// Puts the packets of one logical stream back together from its pages, in order: pages must
// come with consecutive sequence numbers, and a packet's pages with the continued flag. A
// packet above kMaxOggPacketSize or over kMaxOggPagesPerPacket pages is an error; so is a
// page of another serial number, or one after EOS.
class OggPacketAssembler {
 public:
  // Takes a page; its complete packets are then available from next_packet() until the next
  // push_page() (which drops any not taken). After an error, nothing more is taken.
  Expected<void, OggError> push_page(const OggPage& page);
  std::optional<OggPacket> next_packet();
  // A packet continues past the last page pushed.
  bool packet_in_progress() const noexcept { return partial_pages_ > 0; }
  bool ended() const noexcept { return ended_; }
  std::uint64_t pages() const noexcept { return pages_; }

 private:
  struct Span {
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  Buffer partial_;  // the packet continuing past the previous page
  std::size_t partial_pages_ = 0;
  Buffer completed_;  // this page's complete packets, back to back
  std::vector<Span> spans_;
  std::size_t next_span_ = 0;
  std::uint64_t granule_ = kOggNoGranule;
  std::uint32_t page_sequence_ = 0;
  std::optional<std::uint32_t> serial_;
  std::uint64_t pages_ = 0;
  bool ended_ = false;
  bool failed_ = false;
};

// --- Ogg Opus ------------------------------------------------------------------------------

inline constexpr std::size_t kOpusHeadMinSize = 19;
inline constexpr std::string_view kOggOpusVendor = "rtcpp";

// The ID header (RFC 7845 5.1).
struct OpusHead {
  std::uint8_t version = 1;  // major version 0 (the upper four bits) is all we read
  std::uint8_t channels = 1;
  std::uint16_t pre_skip = 0;           // 48 kHz samples to drop at the start
  std::uint32_t input_sample_rate = 0;  // informational; 0 when unknown
  std::int16_t output_gain = 0;         // Q7.8 dB
  std::uint8_t mapping_family = 0;      // 0 (mono/stereo) or 1 (Vorbis order, 1-8)
  // Family 1: the streams, how many are coupled (stereo), and each channel's stream.
  std::uint8_t stream_count = 1;
  std::uint8_t coupled_count = 0;
  std::vector<std::uint8_t> channel_mapping;
  friend bool operator==(const OpusHead&, const OpusHead&) = default;
};
Expected<OpusHead, OggError> parse_opus_head(BytesView packet);
// Appends the packet (family 0 or 1).
void write_opus_head(const OpusHead& head, Buffer& out);
// Checks an OpusTags packet: magic, vendor string and comment lengths within the packet.
Expected<void, OggError> check_opus_tags(BytesView packet) noexcept;
// Appends an OpusTags packet with our vendor string and no comments.
void write_opus_tags(Buffer& out);

struct OggOpusPacket {
  BytesView data;               // valid until the next call
  std::uint32_t samples = 0;    // at 48 kHz, from the packet's framing
  std::uint64_t timestamp = 0;  // 48 kHz samples before this packet (pre-skip included)
};

// Reads an Ogg Opus stream from bytes fed in any pieces, holding at most a page and a packet:
// the headers first (OpusHead, then OpusTags), then the audio packets one at a time, each
// checked as Opus (opus_packet_samples) and stamped with the running 48 kHz sample count.
class OggOpusDemuxer {
 public:
  // How many of `bytes` were taken (it stops at each page's end until its packets are
  // taken: call next_packet() until it has none, then feed the rest).
  Expected<std::size_t, OggError> feed(BytesView bytes);
  // The next audio packet of the bytes fed so far, or nothing when more bytes are needed.
  // After an error, nothing more.
  Expected<std::optional<OggOpusPacket>, OggError> next_packet();
  // At the end of the input: an error when it ended inside a page, before the headers, or
  // inside a packet.
  Expected<void, OggError> finish() const;

  bool has_head() const noexcept { return head_.has_value(); }
  const OpusHead& head() const noexcept { return *head_; }
  bool headers_done() const noexcept { return tags_seen_; }
  bool ended() const noexcept { return assembler_.ended(); }

 private:
  Expected<std::optional<OggOpusPacket>, OggError> take(const OggPacket& packet);
  OggPageParser pages_;
  OggPacketAssembler assembler_;
  std::optional<OpusHead> head_;
  bool tags_seen_ = false;
  std::uint64_t packets_ = 0;
  std::uint64_t timestamp_ = 0;
  bool failed_ = false;
};

// An Ogg Opus file held in memory (for tests and fuzzing).
class OggOpusParser {
 public:
  // Reads up to the end of the headers.
  static Expected<OggOpusParser, OggError> open(BytesView file);
  const OpusHead& head() const noexcept { return demuxer_.head(); }
  // The next packet (a view valid until the next call); nothing at the end of the input.
  Expected<std::optional<OggOpusPacket>, OggError> next_packet();

 private:
  explicit OggOpusParser(BytesView file) noexcept : rest_(file) {}
  OggOpusDemuxer demuxer_;
  BytesView rest_;
};

// Reads an Ogg Opus file packet by packet, with bounded memory (a page and a packet).
class OggOpusFileReader {
 public:
  static Expected<OggOpusFileReader, OggError> open(const std::string& path);
  OggOpusFileReader(OggOpusFileReader&& other) noexcept;
  OggOpusFileReader& operator=(OggOpusFileReader&& other) noexcept;
  OggOpusFileReader(const OggOpusFileReader&) = delete;
  OggOpusFileReader& operator=(const OggOpusFileReader&) = delete;
  ~OggOpusFileReader();

  const OpusHead& head() const noexcept { return demuxer_.head(); }
  // The next packet's bytes into `data` (replaced; its capacity reused) with its samples and
  // timestamp (OggOpusPacket::data views `data`); nothing at the end of the file.
  Expected<std::optional<OggOpusPacket>, OggError> next_packet(Buffer& data);

 private:
  explicit OggOpusFileReader(std::FILE* file) noexcept : file_(file) {}
  // Feeds the next chunk of the file; false at its end.
  Expected<bool, OggError> read_more();
  std::FILE* file_ = nullptr;
  OggOpusDemuxer demuxer_;
  Buffer chunk_;
  std::size_t chunk_offset_ = 0;
};

struct OggOpusWriterConfig {
  std::uint8_t channels = 1;      // 1 or 2 (mapping family 0)
  std::uint16_t pre_skip = 3840;  // libopus's usual 80 ms at 48 kHz; from the encoder
  std::uint32_t input_sample_rate = 48000;
  std::uint32_t serial = 0x72746370;  // "rtcp"
};

// Writes an Ogg Opus file: OpusHead and OpusTags pages at once, then audio packets; a page
// goes out every kPageSamples of audio or when its body passes kPageBytes, and close() writes
// the last one with EOS. Granule positions count the samples of each packet
// (opus_packet_samples), starting from 0 with the pre-skip included (RFC 7845 4).
class OggOpusFileWriter {
 public:
  static constexpr std::uint64_t kPageSamples = 48000;  // 1 s
  static constexpr std::size_t kPageBytes = 32 * 1024;

  static Expected<OggOpusFileWriter, OggError> create(const std::string& path,
                                                      const OggOpusWriterConfig& config);
  static Expected<OggOpusFileWriter, OggError> create(const std::string& path,
                                                      std::uint8_t channels,
                                                      std::uint16_t pre_skip);
  OggOpusFileWriter(OggOpusFileWriter&& other) noexcept;
  OggOpusFileWriter& operator=(OggOpusFileWriter&& other) noexcept;
  OggOpusFileWriter(const OggOpusFileWriter&) = delete;
  OggOpusFileWriter& operator=(const OggOpusFileWriter&) = delete;
  ~OggOpusFileWriter();

  // kBadOpusPacket for a packet that is not valid Opus framing (nothing written).
  Expected<void, OggError> write_packet(BytesView packet);
  std::uint64_t granule_position() const noexcept { return granule_; }
  // Writes the last page with EOS and closes the file.
  Expected<void, OggError> close();

 private:
  OggOpusFileWriter(std::FILE* file, std::uint32_t serial) noexcept;
  Expected<void, OggError> flush_page(bool eos);
  std::FILE* file_ = nullptr;
  std::uint32_t serial_ = 0;
  std::uint32_t sequence_ = 0;
  std::uint64_t granule_ = 0;
  // The page being filled.
  std::vector<std::uint8_t> segments_;
  Buffer body_;
  bool continued_ = false;
  bool packet_ended_ = false;  // a packet ends on this page (granule_ is the page's)
  std::uint64_t page_start_granule_ = 0;
  Buffer scratch_;
};

}  // namespace rtcpp::media
