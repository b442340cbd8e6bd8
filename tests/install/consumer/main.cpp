// A program outside the rtcpp tree that uses an installed rtcpp.
#include <iostream>
#include <rtcpp/rtcpp.hpp>

int main() {
  rtcpp::Result<int> r = rtcpp::invalid_state_error("not open");
  if (r) return 1;
  auto cert = rtcpp::RTCCertificate::generate();
  if (!cert || (*cert)->get_fingerprints().empty()) return 1;
  std::cout << "rtcpp " << rtcpp::version() << " " << r.error().name() << " "
            << (*cert)->get_fingerprints()[0].algorithm << "\n";
  return 0;
}
