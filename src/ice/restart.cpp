#include "ice/restart.hpp"

namespace rtcpp::ice {

bool IceRestart::begin() noexcept {
  if (progress_) return false;
  progress_ = Progress{};
  // A previous path outlives its restart only until a new pair is selected, which ends the
  // restart too; a new restart starts with none.
  previous_.reset();
  return true;
}

void IceRestart::finish() noexcept {
  progress_.reset();
  previous_.reset();
}

}  // namespace rtcpp::ice
