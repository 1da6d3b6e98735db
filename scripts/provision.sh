#!/usr/bin/env bash
# CI provisioning beyond the Docker engine (scripts/engine.sh install does that): Debian
# packages the test suite drives as real tools. Today: neovim, the real LSP client of
# tests/test_server_nvim.py (Debian 12 ships 0.7.x; the README's config covers 0.7 and later).
# gcc and libc6-dev build the trace harness's command stub (tests/trace/stub.c).
# Idempotent; needs root only when something is missing.
set -euo pipefail
PACKAGES=(neovim gcc libc6-dev)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "provision: ${PACKAGES[*]} already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "provision: need root to install ${missing[*]} (apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "provision: installed ${missing[*]} ($(nvim --version | head -n1))"
