#include "sdp/session_description.hpp"

#include <algorithm>
#include <charconv>

namespace rtcpp::sdp {
namespace {

RTCError syntax(std::size_t line, std::string message) {
  RTCError e = operation_error("SDP line " + std::to_string(line) + ": " + std::move(message))
                   .with_detail(RTCErrorDetailType::kSdpSyntaxError);
  e.sdp_line_number = static_cast<std::int32_t>(line);
  return e;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (true) {
    const auto next = s.find(sep, i);
    if (next == std::string_view::npos) {
      out.push_back(s.substr(i));
      return out;
    }
    out.push_back(s.substr(i, next - i));
    i = next + 1;
  }
}

// A token: visible ASCII without spaces (RFC 8866 9, "token" and "non-ws-string" alike).
bool is_visible(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

bool is_digits(std::string_view s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Text fields (s=, i=, a= values) may hold any byte but NUL, CR and LF (RFC 8866 9: byte-string).
bool is_byte_string(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\0' || c == '\r' || c == '\n'; });
}

bool parse_port(std::string_view s, std::uint16_t& out) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

std::optional<Connection> parse_connection(std::string_view v) {
  auto f = split(v, ' ');
  if (f.size() != 3 || !is_visible(f[0]) || !is_visible(f[1]) || !is_visible(f[2]))
    return std::nullopt;
  return Connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

std::optional<Attribute> parse_attribute(std::string_view v) {
  const auto colon = v.find(':');
  const std::string_view name = v.substr(0, colon);
  if (!is_visible(name)) return std::nullopt;
  if (colon == std::string_view::npos) return Attribute{std::string(name), std::nullopt};
  const std::string_view value = v.substr(colon + 1);
  if (!is_byte_string(value)) return std::nullopt;
  return Attribute{std::string(name), std::string(value)};
}

std::string connection_text(const Connection& c) {
  return c.network_type + " " + c.address_type + " " + c.address;
}

}  // namespace

const Attribute* AttributeList::find(std::string_view name) const noexcept {
  for (const auto& a : attributes_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<std::string_view> AttributeList::value(std::string_view name) const noexcept {
  const auto* a = find(name);
  if (a == nullptr) return std::nullopt;
  return a->value ? std::string_view(*a->value) : std::string_view();
}

std::vector<std::string_view> AttributeList::values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& a : attributes_) {
    if (a.name == name) out.push_back(a.value ? std::string_view(*a.value) : std::string_view());
  }
  return out;
}

std::size_t AttributeList::remove(std::string_view name) {
  const auto before = attributes_.size();
  std::erase_if(attributes_, [&](const Attribute& a) { return a.name == name; });
  return before - attributes_.size();
}

Result<SessionDescription> SessionDescription::parse(std::string_view text) {
  if (text.size() > kMaxDescriptionSize) return syntax(0, "description too large");
  SessionDescription sd;
  sd.timings.clear();

  // RFC 8866 5: the session-level lines come in this order; each letter's rank.
  constexpr std::string_view kSessionOrder = "vosiuepcbtrzka";
  constexpr std::string_view kMediaOrder = "micbka";
  std::size_t rank = 0;
  bool seen_v = false;
  bool seen_o = false;
  bool seen_s = false;
  MediaDescription* m = nullptr;

  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      // Tolerate a trailing empty line (a final newline), nothing else.
      if (pos >= text.size()) break;
      return syntax(line_number, "empty line");
    }
    if (line.size() > kMaxLineLength) return syntax(line_number, "line too long");
    if (line.size() < 2 || line[1] != '=') return syntax(line_number, "expected <type>=<value>");
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!is_byte_string(value)) return syntax(line_number, "invalid character");

    if (type == 'm') {
      if (!seen_s || sd.timings.empty()) return syntax(line_number, "m= before s= and t=");
      if (sd.media.size() == kMaxMediaSections) return syntax(line_number, "too many m= sections");
      auto f = split(value, ' ');
      if (f.size() < 4) return syntax(line_number, "m= needs media, port, protocol and formats");
      MediaDescription md;
      if (!is_visible(f[0])) return syntax(line_number, "bad media type");
      md.media = std::string(f[0]);
      const auto slash = f[1].find('/');
      if (!parse_port(f[1].substr(0, slash), md.port)) return syntax(line_number, "bad port");
      if (slash != std::string_view::npos) {
        std::uint16_t count = 0;
        if (!parse_port(f[1].substr(slash + 1), count))
          return syntax(line_number, "bad port count");
        md.port_count = count;
      }
      if (!is_visible(f[2])) return syntax(line_number, "bad protocol");
      md.protocol = std::string(f[2]);
      for (std::size_t i = 3; i < f.size(); ++i) {
        if (!is_visible(f[i])) return syntax(line_number, "bad format");
        md.formats.emplace_back(f[i]);
      }
      sd.media.push_back(std::move(md));
      m = &sd.media.back();
      rank = 0;
      continue;
    }

    if (m != nullptr) {
      const auto r = kMediaOrder.find(type);
      if (r == std::string_view::npos)
        return syntax(line_number, std::string("unexpected ") + type + "= in a media section");
      if (r < rank) return syntax(line_number, std::string(1, type) + "= out of order");
      rank = r;
      switch (type) {
        case 'i':
          if (m->information) return syntax(line_number, "second i=");
          m->information = std::string(value);
          break;
        case 'c': {
          auto c = parse_connection(value);
          if (!c) return syntax(line_number, "bad c=");
          m->connections.push_back(*c);
          break;
        }
        case 'b':
          if (!is_visible(value) || value.find(':') == std::string_view::npos)
            return syntax(line_number, "bad b=");
          m->bandwidths.emplace_back(value);
          break;
        case 'k':
          m->key = std::string(value);
          break;
        case 'a': {
          if (m->attributes.all().size() == kMaxAttributesPerSection)
            return syntax(line_number, "too many attributes");
          auto a = parse_attribute(value);
          if (!a) return syntax(line_number, "bad attribute");
          m->attributes.all().push_back(std::move(*a));
          break;
        }
        default:
          break;
      }
      continue;
    }

    const auto r = kSessionOrder.find(type);
    if (r == std::string_view::npos)
      return syntax(line_number, std::string("unknown line type ") + type);
    // t= and r= alternate; everything else must not go backwards.
    const bool timing_pair = (type == 't' && rank == kSessionOrder.find('r'));
    if (r < rank && !timing_pair)
      return syntax(line_number, std::string(1, type) + "= out of order");
    rank = r;
    switch (type) {
      case 'v':
        if (seen_v || line_number != 1) return syntax(line_number, "v= must be the first line");
        if (value != "0") return syntax(line_number, "unsupported SDP version");
        seen_v = true;
        break;
      case 'o': {
        if (!seen_v) return syntax(line_number, "v= missing");
        if (seen_o) return syntax(line_number, "second o=");
        auto f = split(value, ' ');
        if (f.size() != 6 || !is_visible(f[0]) || !is_digits(f[1]) || !is_digits(f[2]) ||
            !is_visible(f[3]) || !is_visible(f[4]) || !is_visible(f[5]))
          return syntax(line_number, "bad o=");
        sd.origin = {std::string(f[0]), std::string(f[1]), std::string(f[2]),
                     std::string(f[3]), std::string(f[4]), std::string(f[5])};
        seen_o = true;
        break;
      }
      case 's':
        if (!seen_o) return syntax(line_number, "o= missing");
        if (seen_s) return syntax(line_number, "second s=");
        if (value.empty()) return syntax(line_number, "empty s=");
        sd.session_name = std::string(value);
        seen_s = true;
        break;
      case 'i':
        if (sd.information) return syntax(line_number, "second i=");
        sd.information = std::string(value);
        break;
      case 'u':
        if (sd.uri) return syntax(line_number, "second u=");
        sd.uri = std::string(value);
        break;
      case 'e':
        sd.emails.emplace_back(value);
        break;
      case 'p':
        sd.phones.emplace_back(value);
        break;
      case 'c': {
        if (sd.connection) return syntax(line_number, "second c=");
        auto c = parse_connection(value);
        if (!c) return syntax(line_number, "bad c=");
        sd.connection = *c;
        break;
      }
      case 'b':
        if (!is_visible(value) || value.find(':') == std::string_view::npos)
          return syntax(line_number, "bad b=");
        sd.bandwidths.emplace_back(value);
        break;
      case 't': {
        if (!seen_s) return syntax(line_number, "s= missing");
        auto f = split(value, ' ');
        if (f.size() != 2 || !is_digits(f[0]) || !is_digits(f[1]))
          return syntax(line_number, "bad t=");
        if (sd.timings.size() == 64) return syntax(line_number, "too many t=");
        sd.timings.push_back({std::string(f[0]), std::string(f[1]), {}});
        break;
      }
      case 'r':
        if (sd.timings.empty()) return syntax(line_number, "r= without t=");
        if (sd.timings.back().repeats.size() == 64) return syntax(line_number, "too many r=");
        sd.timings.back().repeats.emplace_back(value);
        break;
      case 'z':
        sd.zone = std::string(value);
        break;
      case 'k':
        sd.key = std::string(value);
        break;
      case 'a': {
        if (sd.attributes.all().size() == kMaxAttributesPerSection)
          return syntax(line_number, "too many attributes");
        auto a = parse_attribute(value);
        if (!a) return syntax(line_number, "bad attribute");
        sd.attributes.all().push_back(std::move(*a));
        break;
      }
      default:
        break;
    }
  }
  if (!seen_v) return syntax(1, "v= missing");
  if (!seen_o) return syntax(line_number, "o= missing");
  if (!seen_s) return syntax(line_number, "s= missing");
  if (sd.timings.empty()) return syntax(line_number, "t= missing");
  return sd;
}

std::string SessionDescription::to_string() const {
  std::string out;
  out.reserve(1024);
  auto line = [&out](char type, std::string_view value) {
    out += type;
    out += '=';
    out += value;
    out += "\r\n";
  };
  auto attributes_of = [&](const AttributeList& list) {
    for (const auto& a : list.all()) line('a', a.value ? a.name + ":" + *a.value : a.name);
  };
  line('v', "0");
  line('o', origin.username + " " + origin.session_id + " " + origin.session_version + " " +
                origin.network_type + " " + origin.address_type + " " + origin.address);
  line('s', session_name);
  if (information) line('i', *information);
  if (uri) line('u', *uri);
  for (const auto& e : emails) line('e', e);
  for (const auto& p : phones) line('p', p);
  if (connection) line('c', connection_text(*connection));
  for (const auto& b : bandwidths) line('b', b);
  for (const auto& t : timings) {
    line('t', t.start + " " + t.stop);
    for (const auto& r : t.repeats) line('r', r);
  }
  if (zone) line('z', *zone);
  if (key) line('k', *key);
  attributes_of(attributes);
  for (const auto& md : media) {
    std::string m = md.media + " " + std::to_string(md.port);
    if (md.port_count) m += "/" + std::to_string(*md.port_count);
    m += " " + md.protocol;
    for (const auto& f : md.formats) m += " " + f;
    line('m', m);
    if (md.information) line('i', *md.information);
    for (const auto& c : md.connections) line('c', connection_text(c));
    for (const auto& b : md.bandwidths) line('b', b);
    if (md.key) line('k', *md.key);
    attributes_of(md.attributes);
  }
  return out;
}

}  // namespace rtcpp::sdp
