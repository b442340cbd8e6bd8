// The connection's offer/answer state machine (RFC 8829 JSEP, W3C 4.4.1).
#include <algorithm>

#include "base/log.hpp"
#include "pc/connection.hpp"

namespace rtcpp::pc {
namespace {

Logger& jsep_log() {
  static Logger log("pc");
  return log;
}

bool is_offer_state_for_local(SignalingState s) {
  return s == SignalingState::kStable || s == SignalingState::kHaveLocalOffer;
}

bool data_section_accepted(const std::vector<MSection>& sections) {
  return std::any_of(sections.begin(), sections.end(),
                     [](const MSection& s) { return s.data && !s.rejected; });
}

bool accepts_any(const std::vector<MSection>& sections) {
  return std::any_of(sections.begin(), sections.end(),
                     [](const MSection& m) { return !m.rejected; });
}

}  // namespace

void Connection::set_signaling_state(SignalingState state) {
  if (state == signaling_state_) return;
  signaling_state_ = state;
  // W3C 4.4.1.5: an implicit setLocalDescription takes the last created description only
  // while it still describes the current state; back in stable, a new negotiation makes its
  // own (and an explicit one must come from createOffer/createAnswer again).
  if (state == SignalingState::kStable) {
    last_offer_.clear();
    last_answer_.clear();
  }
  emit(SignalingStateChanged{state});
  if (state == SignalingState::kStable) check_negotiation_needed();
}

void Connection::check_negotiation_needed() {
  // W3C 4.7.3: only in stable; whoever delivers the event checks again then.
  if (needs_negotiation() && signaling_state_ == SignalingState::kStable) emit(NegotiationNeeded{});
}

bool Connection::sctp_described() const noexcept {
  if (data_negotiated_) return true;
  const bool applied = pending_local_ || pending_remote_;
  return applied && data_section_accepted(pending_sections_);
}

bool Connection::needs_negotiation() const noexcept {
  if ((negotiation_needed_ && !data_negotiated_) || ice_restart_requested_) return true;
  // A transceiver without a section, or one whose direction is not what our description
  // says any more.
  // W3C 4.7.3: a stopping transceiver, one without a section, one whose direction or (when
  // it sends) streams are not what our description says any more.
  return std::any_of(
      transceivers_.all().begin(), transceivers_.all().end(), [](const Transceiver& t) {
        if (t.stopped) return false;
        if (t.stopping || !t.mid) return true;
        if (t.local_direction && *t.local_direction != t.direction) return true;
        return sends(t.direction) && t.local_stream_ids && *t.local_stream_ids != t.stream_ids;
      });
}

std::uint32_t Connection::add_transceiver(MediaKind kind, RtpDirection direction) {
  const auto handle = transceivers_.add(kind, direction);
  assign_sender_identities();
  check_negotiation_needed();
  return handle;
}

void Connection::restart_ice() {
  if (closed_) return;
  // W3C 4.4.1.6 restartIce: the credentials of the local descriptions are to be replaced by
  // the next offer; with no local description there are none, and nothing to negotiate.
  if (!has_local_description()) return;
  ice_restart_requested_ = true;
  check_negotiation_needed();
}

TransportDescription Connection::local_transport(DtlsSetup setup) const {
  TransportDescription t;
  const auto& credentials = restart_credentials_ ? *restart_credentials_ : local_credentials_;
  t.ice_ufrag = credentials.ufrag;
  t.ice_pwd = credentials.pwd;
  t.ice_options = {"trickle"};
  t.fingerprints = config_.certificate->get_fingerprints();
  t.setup = setup;
  t.mid = local_mid_;
  t.max_message_size = config_.max_message_size;
  // An offer that restarts ICE (new ufrag and pwd, RFC 9429 5.2.3.1) carries none of the old
  // generation's candidates, which belong to the old credentials: the new generation's are
  // gathered once it is applied.
  if (restart_credentials_) return t;
  for (const auto& c : local_candidates_) t.candidates.push_back(c.candidate);
  t.end_of_candidates = local_candidates_complete_;
  return t;
}

std::vector<MSection> Connection::offer_sections() const {
  // A re-offer in have-local-offer starts from the pending offer.
  return plan_offer(
      signaling_state_ == SignalingState::kHaveLocalOffer && !pending_sections_.empty()
          ? pending_sections_
          : sections_,
      transceivers_);
}

void Connection::commit_sections(const std::vector<MSection>& answered) {
  sections_ = answered;
  for (const auto& s : sections_) {
    if (!s.transceiver) continue;
    const auto* t = transceivers_.find(*s.transceiver);
    const bool was_stopping = t == nullptr || t->stopping;
    transceivers_.apply_negotiated(*s.transceiver, s.rejected, s.direction);
    // A section the peer rejected stops its transceiver here (W3C 4.4.1.6).
    if (!was_stopping && s.rejected) emit(TransceiverStopped{*s.transceiver});
  }
  transceivers_.commit_remote_offer();
  transceivers_.remove_stopped();
  pending_sections_.clear();
  pending_bundle_.clear();
}

Result<std::string> Connection::create_offer(bool ice_restart, Timestamp) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!is_offer_state_for_local(signaling_state_))
    return invalid_state_error("createOffer in signaling state " +
                               std::string(to_string(signaling_state_)));
  // W3C 4.4.1.6 / JSEP 5.2.1: a restart offer carries new credentials (made once, so that a
  // second createOffer before setLocalDescription offers the same ones).
  if ((ice_restart || ice_restart_requested_) && transport_ && !restart_credentials_)
    restart_credentials_ = ice::IceCredentials::random(rng_);
  // RFC 8842 5.2: a first offer says actpass; later ones keep the role already in use.
  DtlsSetup setup = DtlsSetup::kActpass;
  if (dtls_role_)
    setup = *dtls_role_ == dtls::DtlsRole::kClient ? DtlsSetup::kActive : DtlsSetup::kPassive;
  auto sections = offer_sections();
  apply_codec_preferences(sections, {});
  stamp_senders(sections);
  last_offer_ = write_description({local_transport(setup), session_id_, ++session_version_},
                                  sections, offer_bundle(sections));
  last_offer_sections_ = std::move(sections);
  last_offer_setup_ = setup;
  return last_offer_;
}

DtlsSetup Connection::local_setup_for_answer() const {
  if (dtls_role_)
    return *dtls_role_ == dtls::DtlsRole::kClient ? DtlsSetup::kActive : DtlsSetup::kPassive;
  if (remote_transport_ && remote_transport_->setup == DtlsSetup::kActive)
    return DtlsSetup::kPassive;
  // RFC 8842 5.3: an answer to actpass picks; like browsers, we prefer the client role.
  return DtlsSetup::kActive;
}

Result<std::string> Connection::create_answer(Timestamp) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (signaling_state_ != SignalingState::kHaveRemoteOffer &&
      signaling_state_ != SignalingState::kHaveLocalPranswer)
    return invalid_state_error("createAnswer in signaling state " +
                               std::string(to_string(signaling_state_)));
  // The sections were planned when the offer was applied (JSEP 5.3.1); directions set since
  // count.
  apply_codec_preferences(pending_sections_, pending_remote_sections_);
  apply_answer_directions(pending_sections_);
  stamp_senders(pending_sections_);
  last_answer_setup_ = local_setup_for_answer();
  last_answer_ =
      write_description({local_transport(last_answer_setup_), session_id_, ++session_version_},
                        pending_sections_, pending_bundle_);
  return last_answer_;
}

Result<> Connection::apply_remote_parameters(dtls::DtlsRole role, Timestamp now) {
  if (!transport_ || !remote_transport_) return operation_error("no transport to configure");
  if (remote_parameters_applied_) {
    if (dtls_role_ && *dtls_role_ != role)
      return invalid_modification_error("the DTLS role cannot change");
    return {};
  }
  auto applied =
      transport_->set_remote_parameters(remote_transport_->ice_ufrag, remote_transport_->ice_pwd,
                                        remote_transport_->fingerprints, role, now);
  if (!applied) return applied;
  remote_parameters_applied_ = true;
  dtls_role_ = role;
  return {};
}

void Connection::add_remote_candidates_from(const TransportDescription& remote, Timestamp now) {
  for (const auto& c : remote.candidates) {
    if (auto added = add_remote_candidate(c, now); !added)
      jsep_log().warning("remote candidate ", c.to_string(), " ignored: ", added.error().message());
  }
  if (remote.end_of_candidates) transport_->ice().end_of_remote_candidates(now);
}

void Connection::negotiation_complete(bool data_accepted) {
  negotiation_needed_ = false;
  if (!data_accepted) return;
  data_negotiated_ = true;
  remote_max_message_size_ = remote_transport_ ? remote_transport_->max_message_size : 65536;
  open_pending_channels();
}

void Connection::apply_answer(const Description& desc, bool local,
                              const std::vector<MSection>& answered) {
  const bool data_accepted = data_section_accepted(answered);
  auto& ours = local ? pending_local_ : pending_remote_;    // the side that answered
  auto& theirs = local ? pending_remote_ : pending_local_;  // the side that offered
  auto& ours_current = local ? current_local_ : current_remote_;
  auto& theirs_current = local ? current_remote_ : current_local_;
  if (desc.type == SdpType::kAnswer) {
    ours_current = desc;
    if (theirs) theirs_current = theirs;
    ours.reset();
    theirs.reset();
    commit_sections(answered);
    current_remote_sections_ = pending_remote_sections_;
    configure_media();
    negotiation_complete(data_accepted);
    set_signaling_state(SignalingState::kStable);
  } else {
    ours = desc;
    negotiation_complete(data_accepted);
    set_signaling_state(local ? SignalingState::kHaveLocalPranswer
                              : SignalingState::kHaveRemotePranswer);
  }
}

void Connection::roll_back(bool local, Timestamp now) {
  (local ? pending_local_ : pending_remote_).reset();
  if (!local) {
    pending_remote_sections_.clear();
    // W3C 4.4.1.5: transceivers the remote offer made go, and mids it gave are taken back.
    std::vector<std::string> mids;
    for (const auto& s : sections_) mids.push_back(s.mid);
    transceivers_.roll_back_remote_offer(mids);
  }
  pending_sections_.clear();
  pending_bundle_.clear();
  // A rollback of the first offer leaves nothing negotiated: the transport goes too.
  if (!current_local_ && !current_remote_) {
    teardown_transport();
    fill_candidate_pool(now);
  }
  set_signaling_state(SignalingState::kStable);
}

Result<> Connection::roll_back_either(Timestamp now) {
  // W3C 4.4.1.5 set a session description: a rollback is refused in stable and the pranswer
  // states only. Through either method it rolls back the offer pending, ours or the peer's
  // (JSEP: both methods do the same thing, back to stable).
  if (signaling_state_ != SignalingState::kHaveLocalOffer &&
      signaling_state_ != SignalingState::kHaveRemoteOffer)
    return invalid_state_error("rollback in signaling state " +
                               std::string(to_string(signaling_state_)));
  roll_back(/*local=*/signaling_state_ == SignalingState::kHaveLocalOffer, now);
  return {};
}

Result<> Connection::set_local_description(std::optional<Description> description, Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  Description desc;
  if (!description) {
    // W3C 4.4.1.5: the implicit form makes the description the state calls for.
    const bool offer = signaling_state_ == SignalingState::kStable ||
                       signaling_state_ == SignalingState::kHaveLocalOffer ||
                       signaling_state_ == SignalingState::kHaveRemotePranswer;
    desc.type = offer ? SdpType::kOffer : SdpType::kAnswer;
  } else {
    desc = *description;
  }
  if (desc.type == SdpType::kRollback) return roll_back_either(now);
  const bool is_offer = desc.type == SdpType::kOffer;
  if (is_offer ? !is_offer_state_for_local(signaling_state_)
               : (signaling_state_ != SignalingState::kHaveRemoteOffer &&
                  signaling_state_ != SignalingState::kHaveLocalPranswer))
    return invalid_state_error("setLocalDescription(" + std::string(to_string(desc.type)) +
                               ") in signaling state " + std::string(to_string(signaling_state_)));
  std::string& last = is_offer ? last_offer_ : last_answer_;
  if (desc.sdp.empty()) {
    if (last.empty()) {
      auto made = is_offer ? create_offer(false, now) : create_answer(now);
      if (!made) return std::move(made).error();
    }
    desc.sdp = last;
  } else if (desc.sdp != last) {
    // W3C 4.4.1.5: only what create_offer/create_answer made last may be applied.
    return invalid_modification_error("the description differs from the one create" +
                                      std::string(is_offer ? "Offer" : "Answer") +
                                      " returned last");
  }

  commit_restart_credentials(desc.sdp, now);
  if (is_offer) {
    if (auto ok = ensure_transport(ice::IceRole::kControlling, now); !ok) return ok;
    pending_local_ = desc;
    local_offer_setup_ = last_offer_setup_;
    pending_sections_ = last_offer_sections_;
    record_local_directions(pending_sections_);
    // W3C 4.4.1.5: the transceivers take the mids of their sections.
    for (const auto& section : pending_sections_) {
      if (!section.transceiver || section.rejected) continue;
      if (auto* t = transceivers_.find(*section.transceiver)) t->mid = section.mid;
    }
    if (auto bundle = offer_bundle(pending_sections_); !bundle.empty()) local_mid_ = bundle.front();
    surface_candidate_pool();
    start_gathering(now);
    set_signaling_state(SignalingState::kHaveLocalOffer);
    return {};
  }
  // An answer or pranswer: our a=setup against the offer's decides the DTLS role, when the
  // answer accepts anything at all.
  const std::vector<MSection> answered = pending_sections_;
  record_local_directions(answered);
  if (accepts_any(answered) && remote_transport_ && transport_) {
    auto role = negotiate_dtls_role(last_answer_setup_, remote_transport_->setup, false);
    if (!role) return std::move(role).error();
    if (auto ok = apply_remote_parameters(*role, now); !ok) return ok;
    add_remote_candidates_from(*remote_transport_, now);
    surface_candidate_pool();
    start_gathering(now);
  }
  apply_answer(desc, /*local=*/true, answered);
  return {};
}

Result<> Connection::set_remote_description(const Description& desc, Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (desc.type == SdpType::kRollback) return roll_back_either(now);
  const bool is_offer = desc.type == SdpType::kOffer;
  const bool offer_ok = signaling_state_ == SignalingState::kStable ||
                        signaling_state_ == SignalingState::kHaveRemoteOffer ||
                        signaling_state_ == SignalingState::kHaveLocalOffer;
  const bool answer_ok = signaling_state_ == SignalingState::kHaveLocalOffer ||
                         signaling_state_ == SignalingState::kHaveRemotePranswer;
  if (is_offer ? !offer_ok : !answer_ok)
    return invalid_state_error("setRemoteDescription(" + std::string(to_string(desc.type)) +
                               ") in signaling state " + std::string(to_string(signaling_state_)));
  // Everything is checked before anything changes: a bad description leaves the state as it was.
  auto parsed = sdp::SessionDescription::parse(desc.sdp);
  if (!parsed) return std::move(parsed).error();
  const std::vector<MSection> offered = is_offer ? std::vector<MSection>{} : pending_sections_;
  auto remote = read_remote_description(*parsed, offered);
  if (!remote) return std::move(remote).error();
  if (is_offer) {
    // JSEP 5.7 / 5.2.2: a later offer keeps every section in its place; only a rejected one
    // may come back recycled under a new mid.
    if (remote->sections.size() < sections_.size())
      return invalid_access_error("the offer has fewer m= sections than the session");
    for (std::size_t i = 0; i < sections_.size(); ++i) {
      if (!sections_[i].rejected && remote->sections[i].mid != sections_[i].mid)
        return invalid_access_error("m= section " + std::to_string(i) + " changed its mid from " +
                                    sections_[i].mid + " to " + remote->sections[i].mid);
    }
  }
  const TransportDescription* transport = remote->transport ? &*remote->transport : nullptr;
  if (transport && remote_parameters_applied_ && remote_transport_ &&
      transport->fingerprints != remote_transport_->fingerprints)
    return invalid_modification_error("the remote DTLS fingerprint cannot change");
  if (is_offer) return apply_remote_offer(desc, *remote, now);

  auto role = transport ? negotiate_dtls_role(local_offer_setup_, transport->setup, true)
                        : Result<dtls::DtlsRole>(dtls::DtlsRole::kClient);
  if (!role) return std::move(role).error();
  // An answer: what it rejected is rejected.
  std::vector<MSection> answered = pending_sections_;
  for (std::size_t i = 0; i < answered.size(); ++i) {
    if (!remote->sections[i].rejected) {
      // The negotiated direction: ours within the answer's, reversed (RFC 3264 6.1).
      if (answered[i].transceiver)
        answered[i].direction =
            intersect(answered[i].direction, reversed(remote->sections[i].direction));
      continue;
    }
    answered[i].rejected = true;
    answered[i].direction = RtpDirection::kInactive;
  }
  fire_track_events(answered, remote->sections);
  pending_remote_sections_ = remote->sections;
  if (transport) {
    apply_remote_restart(*transport, now);
    remote_transport_ = *transport;
    if (auto ok = apply_remote_parameters(*role, now); !ok) return ok;
    add_remote_candidates_from(*transport, now);
  }
  apply_answer(desc, /*local=*/false, answered);
  return {};
}

Result<> Connection::apply_remote_offer(const Description& desc, const RemoteDescription& remote,
                                        Timestamp now) {
  if (signaling_state_ == SignalingState::kHaveLocalOffer) {
    // W3C 4.4.1.6: an offer in have-local-offer (glare) first rolls our offer back.
    roll_back(/*local=*/true, now);
  }
  // JSEP 5.10: every offered media section gets its transceiver; our answer is planned now.
  auto plan = plan_answer(
      remote,
      [&](std::size_t i) -> std::optional<std::uint32_t> {
        const auto& section = remote.sections[i];
        if (section.rejected) {
          const auto* t = transceivers_.find_mid(section.mid);
          return t != nullptr ? std::optional(t->handle) : std::nullopt;
        }
        return transceivers_.associate_remote(section.kind, section.mid);
      },
      [](std::size_t) { return true; });
  assign_sender_identities();
  pending_remote_sections_ = remote.sections;
  apply_answer_directions(plan.sections);
  stamp_senders(plan.sections);
  fire_track_events(plan.sections, remote.sections);
  const TransportDescription* transport = remote.transport ? &*remote.transport : nullptr;
  if (accepts_any(plan.sections) && transport) {
    if (auto ok = ensure_transport(ice::IceRole::kControlled, now); !ok) return ok;
    // JSEP 5.3.1: the answer to an offer that restarts ICE restarts ours too.
    if (remote_parameters_applied_ && remote_transport_ &&
        transport->ice_ufrag != remote_transport_->ice_ufrag && !restart_credentials_)
      restart_credentials_ = ice::IceCredentials::random(rng_);
    apply_remote_restart(*transport, now);
    remote_transport_ = *transport;
    add_remote_candidates_from(*transport, now);
  }
  // RFC 9143 7.3.1: our candidates go with the answerer-tagged section (the first of the
  // answer's group), or the one section we accept without a group.
  if (!plan.bundle.empty()) {
    local_mid_ = plan.bundle.front();
  } else {
    for (const auto& section : plan.sections) {
      if (!section.rejected) {
        local_mid_ = section.mid;
        break;
      }
    }
  }
  pending_sections_ = std::move(plan.sections);
  pending_bundle_ = std::move(plan.bundle);
  pending_remote_sections_ = remote.sections;
  pending_remote_ = desc;
  set_signaling_state(SignalingState::kHaveRemoteOffer);
  return {};
}

void Connection::commit_restart_credentials(const std::string& sdp, Timestamp now) {
  ice_restart_requested_ = false;
  if (!restart_credentials_) return;
  auto parsed = sdp::SessionDescription::parse(sdp);
  if (!parsed) return;
  auto ours = read_remote_description(*parsed);
  if (!ours || !ours->transport || ours->transport->ice_ufrag != restart_credentials_->ufrag)
    return;
  local_credentials_ = *restart_credentials_;
  restart_credentials_.reset();
  if (!transport_) return;
  // A new gathering round: the candidates come again under the new ufrag. W3C 4.4.1.6 set the
  // configuration: ICE servers set since take effect at this gathering phase; they are added
  // first, so that gathering waits for their answers.
  local_candidates_.clear();
  local_candidates_complete_ = false;
  // So does a new iceTransportPolicy (the gatherer applies it at the restart), and servers
  // left out of the configuration are dropped, their allocations released.
  transport_->ice().set_relay_only(config_.relay_only);
  remove_unconfigured_servers(now);
  if (gathering_started_) add_configured_servers(now);
  transport_->ice().restart_local(local_credentials_, now);
}

void Connection::apply_remote_restart(const TransportDescription& remote, Timestamp now) {
  if (!remote_parameters_applied_ || !transport_ || !remote_transport_) return;
  if (remote.ice_ufrag != remote_transport_->ice_ufrag) {
    previous_remote_ufrag_ = remote_transport_->ice_ufrag;
    remote_candidates_.clear();  // a new generation of the peer's candidates
  }
  // The agent restarts when the credentials changed, and takes them as the answer to a restart
  // of ours either way; the same credentials as before change nothing.
  if (auto set = transport_->ice().set_remote_credentials(remote.ice_ufrag, remote.ice_pwd, now);
      !set)
    jsep_log().warning("the peer's new ICE credentials were not applied: ", set.error().message());
}

Result<> Connection::add_ice_candidate(const std::string& candidate_line,
                                       const std::optional<std::string>& mid,
                                       std::optional<std::uint16_t> m_line_index,
                                       const std::optional<std::string>& ufrag, Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!candidate_line.empty() && !mid && !m_line_index)
    return type_error("a candidate needs sdpMid or sdpMLineIndex");
  if (!pending_remote_ && !current_remote_)
    return invalid_state_error("addIceCandidate before a remote description");
  const auto& remote_text = pending_remote_ ? pending_remote_->sdp : current_remote_->sdp;
  auto remote = sdp::SessionDescription::parse(remote_text);
  if (!remote) return std::move(remote).error();
  // W3C 4.4.1.7: the candidate must belong to a media section of the remote description.
  if (mid) {
    const bool known = std::any_of(remote->media.begin(), remote->media.end(), [&](const auto& m) {
      return m.attributes.value("mid") == std::optional<std::string_view>(*mid);
    });
    if (!known) return operation_error("no media section with mid " + *mid);
  } else if (m_line_index && *m_line_index >= remote->media.size()) {
    return operation_error("sdpMLineIndex " + std::to_string(*m_line_index) + " is out of range");
  }
  if (ufrag && remote_transport_ && *ufrag != remote_transport_->ice_ufrag) {
    // A late candidate from before the peer's restart: nothing to pair it with any more.
    if (*ufrag == previous_remote_ufrag_) return {};
    return operation_error("the candidate's usernameFragment is not the remote one");
  }
  // A candidate for a description we connect nothing for (every section rejected) has no
  // transport to go to.
  if (!transport_ || !remote_transport_) return {};
  if (candidate_line.empty()) {
    transport_->ice().end_of_remote_candidates(now);
    add_to_remote_descriptions(std::nullopt, mid, m_line_index);
    return {};
  }
  auto candidate = ice::Candidate::parse(candidate_line);
  if (!candidate) return operation_error("bad candidate: " + candidate.error().message());
  if (auto added = add_remote_candidate(*candidate, now); !added)
    return operation_error(added.error().message());
  add_to_remote_descriptions(*candidate, mid, m_line_index);
  return {};
}

void Connection::add_to_remote_descriptions(const std::optional<ice::Candidate>& candidate,
                                            const std::optional<std::string>& mid,
                                            std::optional<std::uint16_t> m_line_index) {
  if (!remote_transport_) return;
  // Written as we parsed it, never as the peer's text: what goes into the SDP is a well-formed
  // candidate-attribute whatever came in.
  const std::string value =
      candidate ? candidate->to_string().substr(std::string_view("candidate:").size()) : "";
  for (auto* description : {&pending_remote_, &current_remote_}) {
    if (!*description) continue;
    auto parsed = sdp::SessionDescription::parse((*description)->sdp);
    if (!parsed) continue;
    const auto session_ufrag = parsed->attributes.value("ice-ufrag");
    bool changed = false;
    for (std::size_t i = 0; i < parsed->media.size(); ++i) {
      auto& m = parsed->media[i];
      // sdpMid first, then sdpMLineIndex (W3C 4.4.1.6); neither: an end of candidates for all.
      if (mid ? m.attributes.value("mid") != std::optional<std::string_view>(*mid)
              : (m_line_index && *m_line_index != i))
        continue;
      // Only a description of the candidate's generation (the current remote credentials).
      auto ufrag = m.attributes.value("ice-ufrag");
      if (!ufrag) ufrag = session_ufrag;
      if (!ufrag || *ufrag != remote_transport_->ice_ufrag) continue;
      if (candidate) {
        bool present = false;
        for (const auto& a : m.attributes.values("candidate")) present = present || a == value;
        if (present) continue;
        m.attributes.add("candidate", value);
      } else {
        if (m.attributes.has("end-of-candidates")) continue;
        m.attributes.add("end-of-candidates");
      }
      changed = true;
    }
    if (changed) (*description)->sdp = parsed->to_string();
  }
}

std::string Connection::with_candidates(const std::string& text) const {
  if (local_candidates_.empty() && !local_candidates_complete_) return text;
  auto parsed = sdp::SessionDescription::parse(text);
  if (!parsed) return text;
  for (auto& m : parsed->media) {
    if (m.attributes.value("mid") != std::optional<std::string_view>(local_mid_)) continue;
    // W3C 4.4.1: the local description carries the candidates gathered so far.
    for (const auto& c : local_candidates_) {
      const std::string value =
          c.candidate.to_string().substr(std::string_view("candidate:").size());
      bool present = false;
      for (const auto& a : m.attributes.values("candidate")) present = present || a == value;
      if (!present) m.attributes.add("candidate", value);
    }
    if (local_candidates_complete_ && !m.attributes.has("end-of-candidates"))
      m.attributes.add("end-of-candidates");
  }
  return parsed->to_string();
}

std::optional<Description> Connection::current_local_description() const {
  auto d = current_local_;
  if (d) d->sdp = with_candidates(d->sdp);
  return d;
}

std::optional<Description> Connection::pending_local_description() const {
  auto d = pending_local_;
  if (d) d->sdp = with_candidates(d->sdp);
  return d;
}

}  // namespace rtcpp::pc
