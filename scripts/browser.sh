#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (tests/browser/),
# which drive it with Playwright. Playwright's own browser downloads are never used: they
# cannot be fetched here, and the tests must not download anything at run time.
# ./dev test runs this before pytest. Safe to run again: it installs only when missing.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ ! -x "$CHROMIUM" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "browser.sh: $CHROMIUM is missing and there is no apt-get to install it;" \
      "install Chromium so that $CHROMIUM exists" >&2
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "browser.sh: installing chromium needs root (or sudo)" >&2
      exit 1
    }
    SUDO=(sudo)
  fi
  echo "browser.sh: installing Debian's chromium package" >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium >/dev/null
  [ -x "$CHROMIUM" ] || { echo "browser.sh: apt-get installed chromium but $CHROMIUM is missing" >&2; exit 1; }
fi

"$CHROMIUM" --version
