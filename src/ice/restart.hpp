// An ICE restart in progress (RFC 8445 9, RFC 8839 4.4.1.1.1). Either side may start it with
// new credentials; checks resume once both sides' new credentials are in place. The pair
// that was selected keeps carrying data (and its consent is kept, under the credentials it
// was checked with) until the restart selects a new pair.
#pragma once

#include <cstddef>
#include <optional>

#include "ice/types.hpp"

namespace rtcpp::ice {

// The pair selected before the restart, with the credentials it was checked under.
struct PreviousPath {
  std::size_t local = 0;  // index into the local candidates (they outlive restarts)
  RemoteCandidate remote;
  IceCredentials local_credentials;
  IceCredentials remote_credentials;
};

class IceRestart {
 public:
  bool in_progress() const noexcept { return progress_.has_value(); }
  // Starts a restart; false when one is in progress already (nothing changes then).
  bool begin() noexcept;
  // Which side's new credentials are in place (during a restart only).
  void local_changed() noexcept { progress_->local_changed = true; }
  void remote_changed() noexcept { progress_->remote_changed = true; }
  bool has_local_changed() const noexcept { return progress_ && progress_->local_changed; }
  bool has_remote_changed() const noexcept { return progress_ && progress_->remote_changed; }
  // No restart, or one whose both halves are done: connectivity checks may run.
  bool checks_allowed() const noexcept {
    return !progress_ || (progress_->local_changed && progress_->remote_changed);
  }

  // Keeps the working path of the session being restarted.
  void keep_previous_path(PreviousPath path) { previous_ = std::move(path); }
  const std::optional<PreviousPath>& previous_path() const noexcept { return previous_; }

  // A new pair is selected: the restart is over and the previous path is let go.
  void finish() noexcept;

 private:
  struct Progress {
    bool local_changed = false;
    bool remote_changed = false;
  };
  std::optional<Progress> progress_;
  std::optional<PreviousPath> previous_;
};

}  // namespace rtcpp::ice
