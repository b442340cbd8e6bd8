// WAV files from anywhere: never crash; the samples read are the data chunk's whole sample
// frames, in order, timestamped from their position; written back as 16-bit PCM they parse
// to the same samples.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/wav.hpp"

using namespace rtcpp;
using namespace rtcpp::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  auto parser = WavParser::open(input);
  if (!parser) return 0;
  const WavFormat format = parser->format();
  if (format.channels < 1 || format.channels > kMaxAudioChannels || format.sample_rate < 1 ||
      format.sample_rate > kMaxAudioSampleRate)
    std::abort();
  const BytesView chunk = parser->data();
  if (!chunk.empty() && (chunk.data() < data || chunk.data() + chunk.size() > data + size))
    std::abort();
  if (chunk.size() % format.block_align() != 0) std::abort();

  // Pieces of varying length, as a player asks for them.
  std::vector<std::int16_t> samples;
  std::size_t piece = 1;
  std::int64_t next_timestamp = 0;
  while (true) {
    const AudioFrame frame = parser->read(piece);
    if (frame.samples.empty()) break;
    if (frame.channels != format.channels || frame.sample_rate != format.sample_rate ||
        frame.samples_per_channel() > piece || frame.timestamp_us < next_timestamp)
      std::abort();
    next_timestamp = frame.timestamp_us;
    samples.insert(samples.end(), frame.samples.begin(), frame.samples.end());
    piece = piece * 3 + 1;
  }
  if (samples.size() != parser->total_samples_per_channel() * format.channels) std::abort();

  Buffer out;
  write_wav_header(format.sample_rate, format.channels,
                   static_cast<std::uint32_t>(samples.size() * 2), out);
  for (const std::int16_t sample : samples) {
    out.push_back(static_cast<std::uint8_t>(sample));
    out.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(sample) >> 8));
  }
  auto again = WavParser::open(out);
  if (!again) std::abort();
  if (again->format().channels != format.channels ||
      again->format().sample_rate != format.sample_rate)
    std::abort();
  const AudioFrame all = again->read(samples.size());
  if (all.samples != samples) std::abort();
  return 0;
}
