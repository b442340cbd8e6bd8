// A program outside the rtcpp tree that uses an installed rtcpp.
#include <iostream>
#include <rtcpp/rtcpp.hpp>

int main() {
  rtcpp::Result<int> r = rtcpp::invalid_state_error("not open");
  if (r) return 1;
  std::cout << "rtcpp " << rtcpp::version() << " " << r.error().name() << "\n";
  return 0;
}
