#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it (and a CJK font, so
# screenshots show the bank's Chinese name) when missing and we can.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif [ ! -x /usr/bin/chromium ]; then
  echo "warning: /usr/bin/chromium is missing; browser tests will be skipped" >&2
fi
