// STUN parsing and every typed accessor on hostile input; whatever parses must rebuild into
// a message that parses again with the same type, transaction id and attribute count.
#include <cstdint>
#include <cstdlib>

#include "stun/stun_message.hpp"

using namespace rtcpp;
using namespace rtcpp::stun;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  (void)is_stun_message(input);
  auto msg = StunMessage::parse(input);
  if (!msg) return 0;
  (void)msg->username();
  (void)msg->priority();
  (void)msg->ice_controlling();
  (void)msg->use_candidate();
  (void)msg->xor_mapped_address();
  (void)msg->address_attribute(attr::kMappedAddress);
  (void)msg->xor_address_attribute(attr::kXorRelayedAddress);
  (void)msg->error_code();
  (void)msg->unknown_attributes();
  const std::uint16_t known[] = {attr::kUsername, attr::kPriority};
  (void)msg->unknown_comprehension_required(known);
  (void)msg->fingerprint_valid();
  const std::uint8_t key[] = {'k', 'e', 'y'};
  (void)msg->check_integrity(key);

  StunMessageBuilder builder(msg->message_class(), msg->method(), msg->transaction_id());
  for (const auto& a : msg->attributes()) builder.add_bytes(a.type, a.value);
  const Buffer rebuilt = builder.finish();
  auto again = StunMessage::parse(rebuilt);
  if (!again || again->type() != msg->type() || again->transaction_id() != msg->transaction_id() ||
      again->attributes().size() != msg->attributes().size())
    std::abort();
  return 0;
}
