#include "api/peer_connection_impl.hpp"

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <vector>

#include "api/conversions.hpp"
#include "api/data_channel_state.hpp"
#include "api/handler_call.hpp"
#include "api/transport_state.hpp"
#include "runtime/interfaces.hpp"
#include "runtime/key_log.hpp"

namespace rtcpp::detail {
namespace {

using runtime::monotonic_now;

pc::SdpType to_core(RTCSdpType type) {
  switch (type) {
    case RTCSdpType::kOffer:
      return pc::SdpType::kOffer;
    case RTCSdpType::kPranswer:
      return pc::SdpType::kPranswer;
    case RTCSdpType::kAnswer:
      return pc::SdpType::kAnswer;
    case RTCSdpType::kRollback:
      return pc::SdpType::kRollback;
  }
  return pc::SdpType::kOffer;
}

RTCSdpType from_core(pc::SdpType type) {
  switch (type) {
    case pc::SdpType::kOffer:
      return RTCSdpType::kOffer;
    case pc::SdpType::kPranswer:
      return RTCSdpType::kPranswer;
    case pc::SdpType::kAnswer:
      return RTCSdpType::kAnswer;
    case pc::SdpType::kRollback:
      return RTCSdpType::kRollback;
  }
  return RTCSdpType::kOffer;
}

std::optional<RTCSessionDescriptionInit> from_core(const std::optional<pc::Description>& d) {
  if (!d) return std::nullopt;
  return RTCSessionDescriptionInit{from_core(d->type), d->sdp};
}

RTCDataChannelState from_core(pc::ChannelState state) {
  switch (state) {
    case pc::ChannelState::kConnecting:
      return RTCDataChannelState::kConnecting;
    case pc::ChannelState::kOpen:
      return RTCDataChannelState::kOpen;
    case pc::ChannelState::kClosing:
      return RTCDataChannelState::kClosing;
    case pc::ChannelState::kClosed:
      return RTCDataChannelState::kClosed;
  }
  return RTCDataChannelState::kClosed;
}

// The bodies of messages handed to on_message, kept on the loop thread for the next ones: a
// 64 KiB vector allocated and freed per message had glibc give its pages back to the kernel
// each time (madvise, with a TLB shootdown). A few are kept, none larger than a message of
// the default max-message-size's order.
constexpr std::size_t kMaxSpareMessageBodies = 4;
constexpr std::size_t kMaxSpareMessageBodyCapacity = std::size_t{256} * 1024;
thread_local std::vector<std::vector<std::uint8_t>> spare_message_bodies;

std::vector<std::uint8_t> take_message_body() {
  if (spare_message_bodies.empty()) return {};
  std::vector<std::uint8_t> body = std::move(spare_message_bodies.back());
  spare_message_bodies.pop_back();
  body.clear();
  return body;
}

void give_message_body(std::vector<std::uint8_t>&& body) {
  if (body.capacity() == 0 || body.capacity() > kMaxSpareMessageBodyCapacity ||
      spare_message_bodies.size() >= kMaxSpareMessageBodies)
    return;
  spare_message_bodies.push_back(std::move(body));
}

}  // namespace

Result<std::shared_ptr<PeerConnectionImpl>> PeerConnectionImpl::create(
    RTCConfiguration configuration) {
  if (auto valid = validate_configuration(configuration); !valid) return std::move(valid).error();
  std::shared_ptr<const RTCCertificate> certificate;
  if (!configuration.certificates.empty()) {
    certificate = configuration.certificates.front();
    if (!certificate) return type_error("certificates contains a null certificate");
    if (certificate->expires() <= unix_time_ms())
      return invalid_access_error("the certificate has expired");
  } else {
    auto generated = RTCCertificate::generate();
    if (!generated) return std::move(generated).error();
    certificate = *generated;
    configuration.certificates.push_back(certificate);
  }
  auto impl = std::shared_ptr<PeerConnectionImpl>(
      new PeerConnectionImpl(std::move(configuration), std::move(certificate)));
  impl->ice_transport_ = std::make_shared<RTCIceTransport>(
      std::make_unique<IceTransportState>(IceTransportState{impl}));
  auto dtls = std::make_unique<DtlsTransportState>();
  dtls->pc = impl;
  dtls->ice = impl->ice_transport_;
  impl->dtls_transport_ = std::make_shared<RTCDtlsTransport>(std::move(dtls));
  return impl;
}

pc::ConnectionConfig PeerConnectionImpl::core_config() const {
  pc::ConnectionConfig config;
  config.certificate = certificate_->impl();
  for (const auto& server : configuration_.ice_servers)
    config.ice_servers.push_back({server.urls, server.username, server.credential});
  config.relay_only = configuration_.ice_transport_policy == RTCIceTransportPolicy::kRelay;
  config.udp_candidates =
      configuration_.ice_candidate_protocols != RTCIceCandidateProtocols::kTcpOnly;
  config.tcp_candidates =
      configuration_.ice_candidate_protocols != RTCIceCandidateProtocols::kUdpOnly;
  config.turn_dual_stack = configuration_.turn_dual_stack;
  config.candidate_pool_size = configuration_.ice_candidate_pool_size;
  config.max_message_size = configuration_.max_message_size;
  config.sctp_interleaving = configuration_.sctp_interleaving;
  config.sctp_zero_checksum = configuration_.sctp_zero_checksum;
  config.dtls_key_log = runtime::key_log_file_from_environment();
  config.ntp_offset = runtime::monotonic_to_ntp_offset();
  return config;
}

PeerConnectionImpl::PeerConnectionImpl(RTCConfiguration configuration,
                                       std::shared_ptr<const RTCCertificate> cert)
    : configuration_(std::move(configuration)),
      loop_(runtime::EventLoop::shared()),
      certificate_(std::move(cert)),
      core_(core_config(), rng_),
      driver_(std::make_unique<runtime::ConnectionDriver>(
          loop_.io(), core_,
          [this](pc::ConnectionEvent&& event) { on_core_event(std::move(event)); })) {}

PeerConnectionImpl::~PeerConnectionImpl() = default;

void PeerConnectionImpl::queue_task(std::function<void()> task) {
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak, task = std::move(task)] {
    auto self = weak.lock();
    if (self && !self->closed_) task();
  });
}

void PeerConnectionImpl::chain_operation(std::function<void(bool)> operation) {
  {
    std::lock_guard lock(operations_mutex_);
    operations_.emplace_back(std::move(operation), chain_closed_);
  }
  if (loop_.in_loop_thread()) {
    run_chained_operations();
    return;
  }
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak] {
    if (auto self = weak.lock()) self->run_chained_operations();
  });
}

void PeerConnectionImpl::run_chained_operations() {
  // Operations call no user code, so the chain is never re-entered from inside one; the
  // guard keeps it that way should that change.
  if (running_operations_) return;
  running_operations_ = true;
  for (;;) {
    std::function<void(bool)> operation;
    bool chained_after_close = false;
    {
      std::lock_guard lock(operations_mutex_);
      if (operations_.empty()) break;
      operation = std::move(operations_.front().first);
      chained_after_close = operations_.front().second;
      operations_.pop_front();
    }
    operation(chained_after_close);
  }
  running_operations_ = false;
}

void PeerConnectionImpl::kick() {
  if (driver_) driver_->kick();
}

void PeerConnectionImpl::schedule_kick() {
  // Sends made by the tasks already queued (an echo handler per message, a send loop) are
  // flushed together, so their chunks share packets instead of each taking a datagram.
  if (kick_scheduled_) return;
  kick_scheduled_ = true;
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak] {
    auto self = weak.lock();
    if (!self) return;
    self->kick_scheduled_ = false;
    if (!self->closed_) self->kick();
  });
}

// --- The runtime's services ---

void PeerConnectionImpl::resolve(const pc::ResolveRequest& request) {
  // Resolved off the loop. Its first IPv4 address is used, else its first IPv6 one (one
  // allocation per server, as browsers make).
  auto resolver = std::make_shared<boost::asio::ip::udp::resolver>(loop_.io());
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  resolver->async_resolve(
      request.host, std::to_string(request.port),
      [weak, resolver, token = request.token](
          const boost::system::error_code& ec,
          const boost::asio::ip::udp::resolver::results_type& results) {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        std::optional<SocketAddress> chosen;
        if (!ec) {
          for (const auto& result : results) {
            const auto address = result.endpoint().address();
            if (address.is_v4()) {
              chosen =
                  SocketAddress(IpAddress::v4(address.to_v4().to_uint()), result.endpoint().port());
              break;
            }
            if (!chosen)
              chosen = SocketAddress(IpAddress::v6(address.to_v6().to_bytes()),
                                     result.endpoint().port());
          }
        }
        self->core_.name_resolved(token, chosen, ec ? ec.message() : std::string("no address"),
                                  monotonic_now());
        self->kick();
      });
}

void PeerConnectionImpl::resolve_mdns(const pc::MdnsRequest& request) {
  if (!mdns_) mdns_ = std::make_unique<runtime::MdnsResolver>(loop_.io());
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  mdns_->resolve(request.name, [weak, token = request.token](std::optional<IpAddress> address) {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    self->core_.mdns_resolved(token, address, monotonic_now());
    self->kick();
  });
}

// --- Events from the core (inside the driver's kick; user code only through tasks) ---

void PeerConnectionImpl::on_core_event(pc::ConnectionEvent&& event) {
  if (closed_) return;
  if (const auto* request = std::get_if<pc::GatherRequest>(&event)) {
    const auto now = monotonic_now();
    for (const auto& ip : runtime::local_addresses(configuration_.gather_loopback)) {
      // The UDP socket comes first (bound even for TCP-only, for TURN over UDP): the TCP
      // listener then picks a port apart from it.
      if (auto bound = driver_->bind(ip); !bound) core_.socket_failed(ip, bound.error().message());
      if (!request->tcp) continue;
      if (auto listening = driver_->listen_tcp(ip); !listening)
        core_.socket_failed(ip, listening.error().message());
    }
    core_.sockets_ready(now);
  } else if (const auto* resolve_request = std::get_if<pc::ResolveRequest>(&event)) {
    resolve(*resolve_request);
  } else if (const auto* mdns_request = std::get_if<pc::MdnsRequest>(&event)) {
    resolve_mdns(*mdns_request);
  } else if (const auto* stream = std::get_if<pc::TurnStreamRequest>(&event)) {
    runtime::TurnStreamOptions options;
    options.tls = stream->tls;
    options.host_name = stream->host_name;
    core_.turn_stream_ready(
        stream->token,
        driver_->add_turn_stream_server(stream->server, options, configuration_.turns_ca_file),
        monotonic_now());
  } else if (std::holds_alternative<pc::TransportReleased>(event)) {
    driver_->release_sockets();
  } else if (const auto* s = std::get_if<pc::SignalingStateChanged>(&event)) {
    (void)s;
    queue_task([this] { fire(on_signaling_state_change_); });
  } else if (std::holds_alternative<pc::NegotiationNeeded>(event)) {
    // W3C 4.7.3: only if still needed, and stable, when the task runs.
    queue_task([this] {
      if (core_.signaling_state() != pc::SignalingState::kStable || !core_.needs_negotiation())
        return;
      fire(on_negotiation_needed_);
    });
  } else if (const auto* c = std::get_if<pc::LocalCandidate>(&event)) {
    auto candidate = RTCIceCandidate::create({c->candidate.to_string(), c->mid, 0, c->ufrag});
    if (candidate) {
      set_origin(*candidate, c->url, c->relay_protocol);
      // W3C 4.8.1: the event's url is the server's for srflx and relay candidates, else null.
      RTCPeerConnectionIceEvent e{*candidate, candidate->url};
      queue_task([this, e] {
        // W3C 4.3.1 surface a candidate: added to the transport's local candidates, then
        // the event. A candidate of a new generation (an ICE restart) starts a new set.
        if (!local_candidates_.empty() &&
            local_candidates_.back().username_fragment() != e.candidate->username_fragment())
          local_candidates_.clear();
        local_candidates_.push_back(*e.candidate);
        fire(on_ice_candidate_, e);
      });
    }
  } else if (const auto* g = std::get_if<pc::GatheringStateChanged>(&event)) {
    const auto state = from_ice(g->state);
    if (state == core_gathering_state_) return;
    core_gathering_state_ = state;
    const bool complete = state == RTCIceGatheringState::kComplete;
    if (complete) {
      // W3C 4.3.1: a generation's gathering finished (a=end-of-candidates is in the local
      // description already): an icecandidate event whose candidate is "", for the transport's
      // media section and the generation's ufrag, to be signaled like any candidate.
      auto end = RTCIceCandidate::create({"", g->mid, 0, g->ufrag});
      if (end) {
        queue_task([this, e = RTCPeerConnectionIceEvent{*end, std::nullopt}] {
          fire(on_ice_candidate_, e);
        });
      }
    }
    // Then, in a task of its own, the gathering state (the attributes change as it runs).
    queue_task([this, complete, state] {
      gathering_state_ = state;
      // Back to new: the transport went with the offer rolled back, and its candidates too.
      if (state == RTCIceGatheringState::kNew) local_candidates_.clear();
      fire(ice_transport_->state_->on_gathering_state_change);
      fire(on_ice_gathering_state_change_);
      // W3C 4.3.1: all gathering done: the legacy icecandidate event with a null candidate.
      if (complete) fire(on_ice_candidate_, RTCPeerConnectionIceEvent{});
    });
  } else if (const auto* err = std::get_if<pc::CandidateError>(&event)) {
    RTCPeerConnectionIceErrorEvent error{err->address, err->port, err->url, err->error_code,
                                         err->error_text};
    queue_task([this, error] { fire(on_ice_candidate_error_, error); });
  } else if (const auto* ice = std::get_if<pc::IceStateChanged>(&event)) {
    const auto state = from_ice(ice->state);
    if (state == ice_transport_state_) return;
    ice_transport_state_ = state;
    queue_task([this] { fire(ice_transport_->state_->on_state_change); });
    update_connection_states();
  } else if (const auto* p = std::get_if<pc::SelectedPairChanged>(&event)) {
    const std::string& mid = core_.transport_mid();
    auto local = RTCIceCandidate::create({p->local.to_string(), mid, 0, std::nullopt});
    auto remote = RTCIceCandidate::create({p->remote.to_string(), mid, 0, std::nullopt});
    if (local && remote) {
      const std::string line = p->local.to_string();
      for (const auto& gathered : core_.local_candidates()) {
        if (gathered.candidate.to_string() == line)
          set_origin(*local, gathered.url, gathered.relay_protocol);
      }
      selected_pair_ = RTCIceCandidatePair{*local, *remote};
    }
    queue_task([this] { fire(ice_transport_->state_->on_selected_candidate_pair_change); });
  } else if (const auto* d = std::get_if<pc::DtlsStateChanged>(&event)) {
    const auto state = from_dtls(d->state);
    if (state == dtls_state_) return;
    dtls_state_ = state;
    std::optional<RTCError> error = d->error;
    queue_task([this, error] {
      if (error) fire(dtls_transport_->state_->on_error, *error);
      fire(dtls_transport_->state_->on_state_change);
    });
    update_connection_states();
  } else if (const auto* sctp = std::get_if<pc::SctpStateChanged>(&event)) {
    sctp_state_ =
        sctp->connected ? RTCSctpTransportState::kConnected : RTCSctpTransportState::kClosed;
    queue_task([this] {
      if (sctp_transport_) fire(sctp_transport_->state_->on_state_change);
    });
  } else if (!on_media_event(event)) {
    on_channel_event(std::move(event));
  }
}

void PeerConnectionImpl::on_channel_event(pc::ConnectionEvent&& event) {
  if (const auto* announced = std::get_if<pc::ChannelAnnounced>(&event)) {
    // The peer opened a channel with DCEP (RFC 8832): announce it (W3C 6.2.3).
    const auto* status = core_.channel(announced->handle);
    if (status == nullptr) return;
    RTCDataChannelInit init;
    init.ordered = status->init.ordered;
    init.protocol = status->init.protocol;
    init.max_retransmits = status->init.max_retransmits;
    init.max_packet_life_time = status->init.max_packet_life_time_ms;
    auto channel =
        std::make_shared<RTCDataChannel>(weak_from_this(), status->init.label, std::move(init));
    channel->d_->handle = announced->handle;
    channel->d_->id = status->id;
    // W3C 6.2.3: a channel the peer announced is open when the datachannel event fires (its
    // open event follows).
    channel->d_->state = RTCDataChannelState::kOpen;
    channels_[announced->handle] = channel;
    queue_task([this, channel] { fire(on_data_channel_, channel); });
    return;
  }
  if (const auto* m = std::get_if<pc::ChannelMessage>(&event)) {
    auto channel = channel_of(m->handle);
    if (!channel) return;
    auto message = std::make_shared<RTCMessageEvent>();
    message->binary = m->binary;
    message->data = take_message_body();
    message->data.assign(m->data.data(), m->data.data() + m->data.size());
    queue_task([channel, message] {
      fire(channel->d_->on_message, *message);
      give_message_body(std::move(message->data));
    });
  } else if (const auto* opened = std::get_if<pc::ChannelOpened>(&event)) {
    auto channel = channel_of(opened->handle);
    if (!channel) return;
    if (const auto* status = core_.channel(opened->handle); status && status->id)
      channel->d_->id = status->id;
    // W3C 6.2.2 announce the channel as open: readyState becomes open in the task that fires
    // the event, so a channel reads connecting until then.
    queue_task([channel] {
      if (channel->d_->state == RTCDataChannelState::kConnecting)
        channel->d_->state = RTCDataChannelState::kOpen;
      fire_open(channel);
    });
  } else if (const auto* sent = std::get_if<pc::ChannelBufferedAmountDecreased>(&event)) {
    auto channel = channel_of(sent->handle);
    if (!channel) return;
    // W3C 6.2 bufferedAmount: reduced in a task, never within the application's own task;
    // bufferedamountlow when it falls from above the threshold to it or below.
    queue_task([channel, bytes = sent->bytes] {
      auto& d = *channel->d_;
      const bool above = d.buffered_amount > d.low_threshold;
      // The transport's queue also holds what the channel sends itself (the DCEP open, a byte
      // for an empty message): never below zero.
      d.buffered_amount -= std::min(bytes, d.buffered_amount);
      if (above && d.buffered_amount <= d.low_threshold) fire(d.on_buffered_amount_low);
    });
  } else if (const auto* error = std::get_if<pc::ChannelError>(&event)) {
    auto channel = channel_of(error->handle);
    if (!channel) return;
    queue_task([channel, e = error->error] { fire(channel->d_->on_error, e); });
  } else if (const auto* closing = std::get_if<pc::ChannelClosing>(&event)) {
    auto channel = channel_of(closing->handle);
    if (!channel) return;
    channel->d_->state = RTCDataChannelState::kClosing;
    queue_task([channel] { fire(channel->d_->on_closing); });
  } else if (const auto* closed = std::get_if<pc::ChannelClosed>(&event)) {
    auto channel = channel_of(closed->handle);
    if (!channel) return;
    finish_channel(channel);
  }
}

std::shared_ptr<RTCDataChannel> PeerConnectionImpl::channel_of(pc::ChannelHandle handle) const {
  auto it = channels_.find(handle);
  return it == channels_.end() ? nullptr : it->second;
}

void PeerConnectionImpl::update_connection_states() {
  if (closed_) return;
  // W3C 4.3.3, for the one ICE and DTLS transport a bundled connection has. close() sets
  // "closed" itself; a transport closed by the peer (DTLS close_notify) is not that.
  const auto ice_state = ice_connection_state_of(ice_transport_state_, closed_);
  if (ice_state != ice_connection_state_) {
    ice_connection_state_ = ice_state;
    queue_task([this] { fire(on_ice_connection_state_change_); });
  }
  const auto state = connection_state_of(ice_connection_state_, dtls_state_);
  if (state != connection_state_) {
    connection_state_ = state;
    queue_task([this] { fire(on_connection_state_change_); });
  }
}

void PeerConnectionImpl::after_negotiation() {
  if (!core_.sctp_described() || sctp_transport_) return;
  auto sctp = std::make_unique<SctpTransportState>();
  sctp->pc = weak_from_this();
  sctp->dtls = dtls_transport_;
  sctp_transport_ = std::make_shared<RTCSctpTransport>(std::move(sctp));
}

// --- JSEP ---

Result<RTCSessionDescriptionInit> PeerConnectionImpl::create_offer(const RTCOfferOptions& options) {
  auto sdp = core_.create_offer(options.ice_restart, monotonic_now());
  if (!sdp) return std::move(sdp).error();
  return RTCSessionDescriptionInit{RTCSdpType::kOffer, std::move(*sdp)};
}

Result<RTCSessionDescriptionInit> PeerConnectionImpl::create_answer() {
  auto sdp = core_.create_answer(monotonic_now());
  if (!sdp) return std::move(sdp).error();
  return RTCSessionDescriptionInit{RTCSdpType::kAnswer, std::move(*sdp)};
}

Result<> PeerConnectionImpl::set_local_description(
    std::optional<RTCSessionDescriptionInit> description) {
  std::optional<pc::Description> desc;
  if (description) desc = pc::Description{to_core(description->type), description->sdp};
  auto applied = core_.set_local_description(std::move(desc), monotonic_now());
  after_negotiation();
  kick();
  return applied;
}

Result<> PeerConnectionImpl::set_remote_description(const RTCSessionDescriptionInit& description) {
  auto applied =
      core_.set_remote_description({to_core(description.type), description.sdp}, monotonic_now());
  after_negotiation();
  kick();
  return applied;
}

Result<> PeerConnectionImpl::add_ice_candidate(const RTCIceCandidateInit& init) {
  auto added = core_.add_ice_candidate(init.candidate, init.sdp_mid, init.sdp_m_line_index,
                                       init.username_fragment, monotonic_now());
  kick();
  return added;
}

void PeerConnectionImpl::restart_ice() {
  core_.restart_ice();
  kick();
}

void PeerConnectionImpl::fill_candidate_pool() {
  core_.fill_candidate_pool(monotonic_now());
  kick();
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::local_description() const {
  auto pending = core_.pending_local_description();
  return from_core(pending ? pending : core_.current_local_description());
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::current_local_description() const {
  return from_core(core_.current_local_description());
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::pending_local_description() const {
  return from_core(core_.pending_local_description());
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::remote_description() const {
  auto pending = core_.pending_remote_description();
  return from_core(pending ? pending : core_.current_remote_description());
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::current_remote_description() const {
  return from_core(core_.current_remote_description());
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::pending_remote_description() const {
  return from_core(core_.pending_remote_description());
}

RTCSignalingState PeerConnectionImpl::signaling_state() const {
  switch (core_.signaling_state()) {
    case pc::SignalingState::kStable:
      return RTCSignalingState::kStable;
    case pc::SignalingState::kHaveLocalOffer:
      return RTCSignalingState::kHaveLocalOffer;
    case pc::SignalingState::kHaveRemoteOffer:
      return RTCSignalingState::kHaveRemoteOffer;
    case pc::SignalingState::kHaveLocalPranswer:
      return RTCSignalingState::kHaveLocalPranswer;
    case pc::SignalingState::kHaveRemotePranswer:
      return RTCSignalingState::kHaveRemotePranswer;
    case pc::SignalingState::kClosed:
      return RTCSignalingState::kClosed;
  }
  return RTCSignalingState::kClosed;
}

std::optional<bool> PeerConnectionImpl::can_trickle_ice_candidates() const {
  const auto& remote = core_.remote_transport();
  if (!remote) return std::nullopt;
  return std::find(remote->ice_options.begin(), remote->ice_options.end(), "trickle") !=
         remote->ice_options.end();
}

Result<> PeerConnectionImpl::set_configuration(RTCConfiguration configuration) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (auto valid = validate_configuration(configuration); !valid) return valid;
  // W3C 4.4.1.6 set the configuration.
  if (!configuration.certificates.empty() &&
      configuration.certificates != configuration_.certificates)
    return invalid_modification_error("certificates cannot change");
  if (configuration.bundle_policy != configuration_.bundle_policy)
    return invalid_modification_error("bundlePolicy cannot change");
  if (configuration.rtcp_mux_policy != configuration_.rtcp_mux_policy)
    return invalid_modification_error("rtcpMuxPolicy cannot change");
  configuration.certificates = configuration_.certificates;
  const RTCConfiguration previous = configuration_;
  configuration_ = std::move(configuration);
  if (auto set = core_.set_configuration(core_config(), monotonic_now()); !set) {
    configuration_ = previous;
    return set;
  }
  kick();
  return {};
}

void PeerConnectionImpl::close() {
  if (closed_) return;
  // W3C 4.4.1.6 close the connection: no events from here on.
  closed_ = true;
  {
    std::lock_guard lock(operations_mutex_);
    chain_closed_ = true;
  }
  for (const auto& [handle, channel] : channels_) {
    channel->d_->state = RTCDataChannelState::kClosed;
    channel->drop_handlers();
  }
  channels_.clear();
  // The peer learns at once: the core's SCTP ABORT and DTLS close_notify leave now.
  core_.close(monotonic_now());
  if (driver_) driver_->close();
  ice_transport_state_ = RTCIceTransportState::kClosed;
  ice_connection_state_ = RTCIceConnectionState::kClosed;
  connection_state_ = RTCPeerConnectionState::kClosed;
  dtls_state_ = RTCDtlsTransportState::kClosed;
  sctp_state_ = RTCSctpTransportState::kClosed;
  on_negotiation_needed_ = nullptr;
  on_ice_candidate_ = nullptr;
  on_ice_candidate_error_ = nullptr;
  on_signaling_state_change_ = nullptr;
  on_ice_gathering_state_change_ = nullptr;
  on_ice_connection_state_change_ = nullptr;
  on_connection_state_change_ = nullptr;
  on_data_channel_ = nullptr;
  on_track_ = nullptr;
  for (auto& [handle, objects] : transceivers_) {
    objects.state->on_encoded_frame = nullptr;
    objects.state->on_key_frame_request = nullptr;
    if (objects.state->receiver_track) objects.state->receiver_track->stop();
  }
  ice_transport_->state_->on_state_change = nullptr;
  ice_transport_->state_->on_gathering_state_change = nullptr;
  ice_transport_->state_->on_selected_candidate_pair_change = nullptr;
  dtls_transport_->state_->on_state_change = nullptr;
  dtls_transport_->state_->on_error = nullptr;
  if (sctp_transport_) sctp_transport_->state_->on_state_change = nullptr;
}

// --- Data channels ---

Result<std::shared_ptr<RTCDataChannel>> PeerConnectionImpl::create_data_channel(
    std::string label, RTCDataChannelInit init) {
  if (closed_) return invalid_state_error("the connection is closed");
  pc::ChannelInit core_init;
  core_init.label = label;
  core_init.protocol = init.protocol;
  core_init.ordered = init.ordered;
  core_init.max_retransmits = init.max_retransmits;
  core_init.max_packet_life_time_ms = init.max_packet_life_time;
  core_init.negotiated = init.negotiated;
  core_init.id = init.id;
  auto handle = core_.create_channel(std::move(core_init), monotonic_now());
  if (!handle) return std::move(handle).error();
  if (!init.negotiated) init.id.reset();  // ids of in-band channels follow the DTLS role
  auto channel = std::make_shared<RTCDataChannel>(weak_from_this(), std::move(label), init);
  channel->d_->handle = *handle;
  if (const auto* status = core_.channel(*handle); status && status->id)
    channel->d_->id = status->id;
  channels_[*handle] = channel;
  kick();
  return channel;
}

// The task of a channel's open event: with no handler yet, the event is held for the first
// one (RTCDataChannel::on_open).
void PeerConnectionImpl::fire_open(const std::shared_ptr<RTCDataChannel>& channel) {
  if (channel->d_->state != RTCDataChannelState::kOpen) return;
  if (!channel->d_->on_open) {
    channel->d_->open_undelivered = true;
    return;
  }
  fire(channel->d_->on_open);
}

void PeerConnectionImpl::deliver_held_open(RTCDataChannel& channel) {
  if (!channel.d_->open_undelivered || !channel.d_->on_open ||
      channel.d_->state != RTCDataChannelState::kOpen)
    return;
  channel.d_->open_undelivered = false;
  if (auto c = channel_of(channel.d_->handle)) queue_task([c] { fire_open(c); });
}

void PeerConnectionImpl::finish_channel(const std::shared_ptr<RTCDataChannel>& channel) {
  if (channel->d_->state == RTCDataChannelState::kClosed) return;
  channel->d_->state = RTCDataChannelState::kClosed;
  channels_.erase(channel->d_->handle);
  // The handlers go after close fired, so that captured shared_ptrs do not keep it alive;
  // they go even when the connection closes first and the event is never fired.
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak, channel] {
    auto self = weak.lock();
    if (self && !self->closed_) fire(channel->d_->on_close);
    channel->drop_handlers();
  });
}

Result<> PeerConnectionImpl::channel_send(RTCDataChannel& channel,
                                          std::span<const std::uint8_t> data, bool binary,
                                          bool valid_text) {
  // W3C 6.2.5 send(), in its order of checks.
  if (channel.d_->state != RTCDataChannelState::kOpen)
    return invalid_state_error("the data channel is " + std::string(to_string(channel.d_->state)));
  // A string is sent UTF-8 encoded: text that is not UTF-8 has no such encoding.
  if (!binary && !valid_text) return type_error("a text message must be valid UTF-8");
  auto sent =
      core_.send(channel.d_->handle, BytesView(data.data(), data.size()), binary, monotonic_now());
  if (!sent) return sent;
  // W3C 6.2.5: [[BufferedAmount]] goes up by the message's size at once.
  channel.d_->buffered_amount += data.size();
  schedule_kick();
  return {};
}

void PeerConnectionImpl::channel_close(RTCDataChannel& channel) {
  if (channel.d_->state == RTCDataChannelState::kClosing ||
      channel.d_->state == RTCDataChannelState::kClosed)
    return;
  core_.close_channel(channel.d_->handle, monotonic_now());
  // W3C 6.2.4: closing at once; closed once the core says so (at once when the channel never
  // reached the transport).
  if (const auto* status = core_.channel(channel.d_->handle))
    channel.d_->state = from_core(status->state);
  kick();
}

std::size_t PeerConnectionImpl::channel_buffered_amount(const RTCDataChannel& channel) const {
  return channel.d_->buffered_amount;
}

void PeerConnectionImpl::set_channel_low_threshold(RTCDataChannel& channel, std::size_t threshold) {
  channel.d_->low_threshold = threshold;
  core_.set_buffered_amount_low_threshold(channel.d_->handle, threshold);
}

}  // namespace rtcpp::detail
