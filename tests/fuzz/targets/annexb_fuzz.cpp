// Annex B streams from anywhere: never crash. The access units, joined, are the input (all of
// it when the walk ends without an error, a prefix of it when it ends with one; nothing for a
// stream of only zero bytes). Each is within the limit, begins with a start code, and is a key
// frame exactly when it holds an IDR slice. Fed in chunks of sizes taken from the input, the
// splitter finds the same access units as over the whole input.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/annexb.hpp"

using namespace rtcpp;
using namespace rtcpp::media;

namespace {

bool holds_idr_slice(BytesView unit) {
  for (std::size_t i = 0; i + 3 < unit.size(); ++i) {
    if (unit[i] == 0 && unit[i + 1] == 0 && unit[i + 2] == 1 && (unit[i + 3] & 0x1F) == 5)
      return true;
  }
  return false;
}

struct Walk {
  std::vector<AnnexBAccessUnit> units;
  bool failed = false;
};

Walk walk_whole(BytesView input, std::size_t max_size) {
  Walk walk;
  AnnexBParser parser(input, max_size);
  while (true) {
    auto unit = parser.next_access_unit();
    if (!unit) {
      walk.failed = true;
      auto after = parser.next_access_unit();
      if (!after || *after) std::abort();  // nothing after an error
      break;
    }
    if (!*unit) break;
    walk.units.push_back(**unit);
  }
  return walk;
}

void check(BytesView input, std::size_t max_size, std::size_t chunk_seed) {
  const Walk walk = walk_whole(input, max_size);
  std::size_t offset = 0;
  for (const AnnexBAccessUnit& unit : walk.units) {
    if (unit.data.empty() || unit.data.size() > max_size ||
        unit.data.data() != input.data() + offset || !starts_with_start_code(unit.data) ||
        unit.key_frame != holds_idr_slice(unit.data))
      std::abort();
    offset += unit.data.size();
  }
  if (!walk.failed && offset != input.size()) {
    // Only a stream of zero bytes (or nothing) gives no access unit.
    if (!walk.units.empty() ||
        std::any_of(input.begin(), input.end(), [](std::uint8_t b) { return b != 0; }))
      std::abort();
  }

  // The same stream in chunks.
  AnnexBSplitter splitter(max_size);
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t found = 0;
  std::size_t step = chunk_seed;
  bool failed = false;
  while (!failed) {
    const bool end_of_stream = end == input.size();
    auto boundary = splitter.find(input.subspan(begin, end - begin), end_of_stream);
    if (!boundary) {
      failed = true;
      break;
    }
    if (*boundary) {
      if (found >= walk.units.size() || (*boundary)->size != walk.units[found].data.size() ||
          (*boundary)->key_frame != walk.units[found].key_frame)
        std::abort();
      ++found;
      begin += (*boundary)->size;
      splitter.next();
      continue;
    }
    if (end_of_stream) break;
    step = (step * 7 + 3) % 97;
    end = std::min(input.size(), end + 1 + step);
  }
  if (failed != walk.failed || found != walk.units.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  const std::size_t seed = size == 0 ? 0 : data[size - 1];
  check(input, kMaxAnnexBAccessUnitSize, seed);
  check(input, 3 + seed % 64, seed);  // a small limit, so that it is reached
  return 0;
}
