#!/usr/bin/env bash
# The demo: installs what is missing, builds the rtcpp tool and runs `rtcpp demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target rtcpp-cli >/dev/null
exec build/release/tools/rtcpp demo "$@"
