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
    libuv1-dev zlib1g-dev asn1c libcmocka-dev libpcap-dev libisal-dev
    libssl-dev tshark python3 iproute2 nftables util-linux
    dovecot-core dovecot-lmtpd postfix swaks libnet-ssleay-perl
    systemd man-db groff-base
    libidn12 libgnutls-dane0 libdb5.3 libnsl2 libpcre2-8-0
)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# muled drops root to the system user "mule" (muled.conf "user"); mulectl
# is open to root, that user and the group "mule".  As a package would,
# create both once.
if ! getent passwd mule >/dev/null; then
    $SUDO useradd --system --user-group --no-create-home --home-dir /var/spool/mule \
        --shell /usr/sbin/nologin mule
fi

# Exim (the upstream that sends BDAT) cannot be installed beside Postfix:
# both are Debian's mail-transport-agent.  Its binary is unpacked from the
# package instead, into /opt/mule-exim, and run with its own config (-C).
exim_unpack() {
    local t
    [ -x /opt/mule-exim/usr/sbin/exim4 ] && return 0
    t=$(mktemp -d)
    chmod 755 "$t"
    (cd "$t" && apt-get download exim4-daemon-light >/dev/null 2>&1) || { rm -rf "$t"; return 0; }
    $SUDO dpkg -x "$t"/exim4-daemon-light_*.deb /opt/mule-exim
    rm -rf "$t"
}
getent passwd Debian-exim >/dev/null ||
    $SUDO useradd --system --user-group --no-create-home --shell /usr/sbin/nologin Debian-exim

if [ ${#missing[@]} -eq 0 ]; then
    exim_unpack
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default "no" is fine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# Postfix without a system configuration: the tests start their own
# instances (tests/integ/mta_lib.sh); no /etc/postfix/main.cf is written.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# No package may start a system daemon (Dovecot): the demo and the tests
# start their own throw-away instances inside network namespaces.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
fi
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
exim_unpack
