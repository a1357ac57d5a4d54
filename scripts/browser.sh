#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (tests/browser/),
# which drive it with Playwright. Playwright's own browser downloads are never used: they
# cannot be fetched here, and the tests must not download anything at run time.
# ./dev test runs this before pytest. Safe to run again: it installs only when missing.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
# The pages are in Chinese by default: without a CJK font Chromium draws every character as a
# box, and the screenshots (docs/screenshots/) would show nothing readable.
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

PACKAGES=()
[ -x "$CHROMIUM" ] || PACKAGES+=(chromium)
[ -f "$CJK_FONT" ] || PACKAGES+=(fonts-wqy-zenhei)

if [ "${#PACKAGES[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "browser.sh: ${PACKAGES[*]} missing and there is no apt-get to install them;" \
      "install Chromium (at $CHROMIUM) and a CJK font" >&2
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "browser.sh: installing ${PACKAGES[*]} needs root (or sudo)" >&2
      exit 1
    }
    SUDO=(sudo)
  fi
  echo "browser.sh: installing Debian's ${PACKAGES[*]}" >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${PACKAGES[@]}" >/dev/null
  [ -x "$CHROMIUM" ] || { echo "browser.sh: apt-get installed chromium but $CHROMIUM is missing" >&2; exit 1; }
fi

"$CHROMIUM" --version
