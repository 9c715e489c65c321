#!/usr/bin/env bash
# install-deps.sh: install the Debian packages mule builds and tests with.
#
# Idempotent: it asks dpkg what is already there and calls apt-get only for
# what is missing, so a second run on a prepared machine costs well under a
# second and touches no network. Both README commands call it first.
# Needs root (or sudo) and Debian's package archive; nothing else is fetched.
set -euo pipefail

pkgs=(
    build-essential pkg-config meson ninja-build clang libclang-rt-dev
    libuv1-dev zlib1g-dev asn1c libcmocka-dev libpcap-dev
    tshark python3 iproute2 nftables
    dovecot-core dovecot-lmtpd
)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default "no" is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# No package may start a system daemon (Dovecot): the demo and the tests
# start their own throw-away instances inside network namespaces.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
