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
    m4 libldap-2.5-0 libsasl2-2 libwrap0 libssl3
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

# Exim (the upstream that sends BDAT) and sendmail (the one MTA in Debian
# that carries DELIVERBY, RFC 2852) cannot be installed beside Postfix: all
# are Debian's mail-transport-agent.  Their packages are fetched from the
# archive into /var/cache/mule-testbed (kept, outside the source tree) and
# unpacked into a private root each, /opt/mule-exim and /opt/mule-sendmail;
# the tests run them with their own config (-C).  The libraries they link
# come from the list above (m4 builds sendmail.cf from sendmail-cf).
deb_cache=/var/cache/mule-testbed
deb_unpack() {  # ROOT BINARY PKG...: unpack PKGs into ROOT unless BINARY is there
    local root=$1 bin=$2 p debs=()
    shift 2
    [ -x "$root/$bin" ] && return 0
    $SUDO mkdir -p "$deb_cache"
    # All fetched before any is unpacked: a half-unpacked root would pass
    # the check above on the next run.
    for p in "$@"; do
        ls "$deb_cache/$p"_*.deb >/dev/null 2>&1 ||
            (cd "$deb_cache" && $SUDO apt-get download "$p" >/dev/null 2>&1) ||
            { echo "install-deps: cannot fetch $p; its tests will skip" >&2; return 0; }
        debs+=("$(ls "$deb_cache/$p"_*.deb | sort -V | tail -1)")
    done
    for p in "${debs[@]}"; do $SUDO dpkg -x "$p" "$root"; done
    # A library the list above lacks shows here rather than as a test
    # that cannot start its MTA.
    if ldd "$root/$bin" | grep 'not found' >&2; then
        echo "install-deps: $root/$bin misses the libraries above" >&2
    fi
}
mta_unpack() {
    deb_unpack /opt/mule-exim usr/sbin/exim4 exim4-daemon-light
    deb_unpack /opt/mule-sendmail usr/libexec/sendmail/sendmail sendmail-bin sendmail-cf
}
getent passwd Debian-exim >/dev/null ||
    $SUDO useradd --system --user-group --no-create-home --shell /usr/sbin/nologin Debian-exim

if [ ${#missing[@]} -eq 0 ]; then
    mta_unpack
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
mta_unpack
