// rtcpp/rtcpp.hpp: everything public in one include.
#pragma once

#include "rtcpp/audio_frame.hpp"          // IWYU pragma: export
#include "rtcpp/certificate.hpp"          // IWYU pragma: export
#include "rtcpp/configuration.hpp"        // IWYU pragma: export
#include "rtcpp/data_channel.hpp"         // IWYU pragma: export
#include "rtcpp/dtls_transport.hpp"       // IWYU pragma: export
#include "rtcpp/error.hpp"                // IWYU pragma: export
#include "rtcpp/ice_candidate.hpp"        // IWYU pragma: export
#include "rtcpp/ice_transport.hpp"        // IWYU pragma: export
#include "rtcpp/log.hpp"                  // IWYU pragma: export
#include "rtcpp/peer_connection.hpp"      // IWYU pragma: export
#include "rtcpp/rtp_transceiver.hpp"      // IWYU pragma: export
#include "rtcpp/sctp_transport.hpp"       // IWYU pragma: export
#include "rtcpp/session_description.hpp"  // IWYU pragma: export
#include "rtcpp/stats.hpp"                // IWYU pragma: export
#include "rtcpp/version.hpp"              // IWYU pragma: export
#include "rtcpp/video_frame.hpp"          // IWYU pragma: export
