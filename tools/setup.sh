#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine that has only Node 20 and npm,
# then installs the workspace and builds it. Idempotent: a second run only checks.
# Usage: bash tools/setup.sh            (as root; uses apt-get and npm -g)
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  # peers and real parts used by the tests
  docker-registry skopeo umoci oci-image-tool runc crun containerd podman conmon
  golang-github-opencontainers-image-spec-dev golang-github-opencontainers-specs-dev
  # fixture building: independent tools, never our own writer
  busybox-static debootstrap zstd gzip tar xz-utils attr coreutils
  # test infrastructure
  apache2-utils openssl tmux iproute2 procps
  # the runtime's C helper is compiled from source
  gcc make libc6-dev libseccomp-dev pkg-config
)

log() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages (${missing[*]}); run this script as root"; exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null || [[ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null 2>&1
fi

export CI="${CI:-true}"
log "installing workspace dependencies"
pnpm install --frozen-lockfile --reporter=silent
log "building"
pnpm exec turbo run build --output-logs=errors-only >&2
