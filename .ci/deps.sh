#!/usr/bin/env bash
# System packages the test suite needs beyond Python's: installed only when missing.
set -euo pipefail

# Debian's Chromium, for the admin's browser test (Playwright drives it; it never
# downloads a browser of its own).
if [ ! -x /usr/bin/chromium ]; then
    echo "deps: installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "deps: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
