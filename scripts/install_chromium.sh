#!/usr/bin/env bash
# Install Debian's chromium for the web-page test (tests/serve/test_web_page.py).
# Idempotent: does nothing if /usr/bin/chromium exists. Needs apt-get and root (or sudo).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not available: install chromium yourself" >&2
    exit 2
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else echo "need root for apt-get" >&2; exit 2; fi
fi
export DEBIAN_FRONTEND=noninteractive
# Another process may hold the apt lock; wait for it rather than fail.
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
