#!/usr/bin/env bash
# The main job: installs what it needs, builds, starts a local registry and runs the pipeline end to end.
# Usage (as root on Debian 12 with Node 20 + npm): bash tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec node tools/demo.mjs
