#!/bin/sh
# .deb post-install hook (electron-builder `deb.afterInstall`): installs the signer's udev rule so the logged-in
# user can reach the hardware signer without root, then reloads udev. Failing to reload (e.g. in a container
# without udev) must not fail the package install.
set -e
RULE_SRC="/opt/Satmachine Console/resources/udev/70-satmachine-signer.rules"
RULE_DST="/etc/udev/rules.d/70-satmachine-signer.rules"
# Earlier packages installed the rule as 99-…, too late for udev's uaccess step; remove that copy.
rm -f /etc/udev/rules.d/99-satmachine-signer.rules
if [ -f "$RULE_SRC" ]; then
  install -m 0644 "$RULE_SRC" "$RULE_DST"
  if command -v udevadm >/dev/null 2>&1; then
    udevadm control --reload-rules || true
    udevadm trigger --subsystem-match=hidraw || true
  fi
fi
