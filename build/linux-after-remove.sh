#!/bin/sh
# .deb post-remove hook: removes the signer's udev rule installed by linux-after-install.sh.
set -e
rm -f /etc/udev/rules.d/70-satmachine-signer.rules /etc/udev/rules.d/99-satmachine-signer.rules
if command -v udevadm >/dev/null 2>&1; then udevadm control --reload-rules || true; fi
