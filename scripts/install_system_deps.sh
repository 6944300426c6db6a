#!/usr/bin/env bash
# System packages the test suite needs beyond Python: Debian's Chromium (the browser test,
# driven by Playwright with executable_path=/usr/bin/chromium; no browser download) and
# PostgreSQL (the production-instance test starts its own server on loopback).
# Idempotent and fast when both are present. Needs root (or passwordless sudo) to install.
set -euo pipefail

have_chromium() { [ -x /usr/bin/chromium ]; }
have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

packages=()
have_chromium || packages+=(chromium)
have_postgres || packages+=(postgresql)
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "install_system_deps: missing ${packages[*]}; run as root: apt-get install -y ${packages[*]}" >&2
    echo "install_system_deps: the browser / PostgreSQL tests will be skipped" >&2
    exit 0
fi

echo "install_system_deps: installing ${packages[*]} (Debian packages)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
# the Debian postgresql package creates a default cluster; the tests use their own
echo "install_system_deps: done"
