// A program outside the rtcpp tree that uses an installed rtcpp: two connections in one
// process open a data channel and exchange a message, through the public headers only.
#include <chrono>
#include <future>
#include <iostream>
#include <rtcpp/rtcpp.hpp>

int main() {
  rtcpp::Result<int> r = rtcpp::invalid_state_error("not open");
  if (r) return 1;
  auto cert = rtcpp::RTCCertificate::generate();
  if (!cert || (*cert)->get_fingerprints().empty()) return 1;

  rtcpp::RTCConfiguration config;
  config.gather_loopback = true;
  auto a = *rtcpp::RTCPeerConnection::create(config);
  auto b = *rtcpp::RTCPeerConnection::create(config);
  // Candidates travel in the descriptions: gathering completes before they are read.
  std::promise<void> a_gathered;
  std::promise<void> b_gathered;
  a->on_ice_candidate([&](const rtcpp::RTCPeerConnectionIceEvent& e) {
    if (!e.candidate) a_gathered.set_value();
  });
  b->on_ice_candidate([&](const rtcpp::RTCPeerConnectionIceEvent& e) {
    if (!e.candidate) b_gathered.set_value();
  });
  std::promise<std::string> received;
  b->on_data_channel([&](std::shared_ptr<rtcpp::RTCDataChannel> channel) {
    channel->on_message(
        [&](const rtcpp::RTCMessageEvent& m) { received.set_value(std::string(m.text())); });
  });
  auto channel = *a->create_data_channel("hello");
  channel->on_open([channel] { (void)channel->send("hello from an installed rtcpp"); });

  if (!a->set_local_description().get()) return 1;
  a_gathered.get_future().wait();
  if (!b->set_remote_description(*a->local_description()).get()) return 1;
  if (!b->set_local_description().get()) return 1;
  b_gathered.get_future().wait();
  if (!a->set_remote_description(*b->local_description()).get()) return 1;

  auto message = received.get_future();
  if (message.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return 1;
  std::cout << "rtcpp " << rtcpp::version() << " " << r.error().name() << " "
            << (*cert)->get_fingerprints()[0].algorithm << " " << message.get() << "\n";
  a->close();
  b->close();
  return 0;
}
