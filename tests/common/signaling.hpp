// Signaling between two RTCPeerConnections of one test process (public API only).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "rtcpp/rtcpp.hpp"

namespace rtcpp::test_support {

// A connection that gathers loopback candidates, as every two-connection test in one process
// needs (the machines these run on may have no other interface).
inline std::shared_ptr<RTCPeerConnection> make_pc() {
  RTCConfiguration config;
  config.gather_loopback = true;
  auto pc = RTCPeerConnection::create(std::move(config));
  EXPECT_TRUE(pc) << pc.error().to_string();
  return pc ? *pc : nullptr;
}

// Trickle between two connections: candidates wait until their target has a remote
// description, as a signaling server would hold them.
class Signaling {
 public:
  Signaling(std::shared_ptr<RTCPeerConnection> a, std::shared_ptr<RTCPeerConnection> b)
      : a_(std::move(a)), b_(std::move(b)) {
    a_->on_ice_candidate([this](const RTCPeerConnectionIceEvent& e) {
      if (observer_) observer_(true, e);
      relay(e, to_b_);
    });
    b_->on_ice_candidate([this](const RTCPeerConnectionIceEvent& e) {
      if (observer_) observer_(false, e);
      relay(e, to_a_);
    });
  }

  // Sees every icecandidate event before it is relayed (on the loop thread); set before the
  // first negotiation.
  void observe(std::function<void(bool from_a, const RTCPeerConnectionIceEvent&)> observer) {
    observer_ = std::move(observer);
  }

  ~Signaling() {
    a_->on_ice_candidate(nullptr);
    b_->on_ice_candidate(nullptr);
  }
  Signaling(const Signaling&) = delete;
  Signaling& operator=(const Signaling&) = delete;

  // Negotiates again (candidates from the new round wait for their description).
  void renegotiate(RTCOfferOptions options = {}, bool b_offers = false) {
    {
      std::lock_guard lock(mutex_);
      to_a_.ready = false;
      to_b_.ready = false;
    }
    negotiate(options, b_offers);
  }

  void negotiate(RTCOfferOptions options = {}, bool b_offers = false) {
    auto& offerer = b_offers ? b_ : a_;
    auto& answerer = b_offers ? a_ : b_;
    Queue& to_answerer = b_offers ? to_a_ : to_b_;
    Queue& to_offerer = b_offers ? to_b_ : to_a_;
    auto offer = offerer->create_offer(options).get();
    ASSERT_TRUE(offer) << offer.error().to_string();
    ASSERT_TRUE(offerer->set_local_description(*offer).get());
    auto applied = answerer->set_remote_description(*offer).get();
    ASSERT_TRUE(applied) << applied.error().to_string();
    flush(to_answerer);
    auto answer = answerer->create_answer().get();
    ASSERT_TRUE(answer) << answer.error().to_string();
    ASSERT_TRUE(answerer->set_local_description(*answer).get());
    applied = offerer->set_remote_description(*answer).get();
    ASSERT_TRUE(applied) << applied.error().to_string();
    flush(to_offerer);
  }

 private:
  struct Queue {
    std::shared_ptr<RTCPeerConnection>* target;
    std::vector<RTCIceCandidateInit> pending;
    bool ready = false;
  };
  void relay(const RTCPeerConnectionIceEvent& e, Queue& q) {
    // The null candidate is not signaled: the end of candidates came before it (W3C 4.8.1).
    if (!e.candidate) return;
    const RTCIceCandidateInit init = e.candidate->to_json();
    std::unique_lock lock(mutex_);
    if (!q.ready) {
      q.pending.push_back(init);
      return;
    }
    lock.unlock();
    (*q.target)->add_ice_candidate(init, [](Result<> r) { EXPECT_TRUE(r); });
  }
  void flush(Queue& q) {
    std::vector<RTCIceCandidateInit> pending;
    {
      std::lock_guard lock(mutex_);
      q.ready = true;
      pending.swap(q.pending);
    }
    for (const auto& c : pending) {
      auto r = (*q.target)->add_ice_candidate(c).get();
      EXPECT_TRUE(r) << r.error().to_string();
    }
  }

  std::shared_ptr<RTCPeerConnection> a_;
  std::shared_ptr<RTCPeerConnection> b_;
  std::function<void(bool, const RTCPeerConnectionIceEvent&)> observer_;
  std::mutex mutex_;
  Queue to_a_{&a_, {}, false};
  Queue to_b_{&b_, {}, false};
};

}  // namespace rtcpp::test_support
