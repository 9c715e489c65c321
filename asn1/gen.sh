#!/bin/sh
# gen.sh: run asn1c on the CompressedData modules and install a known list
# of generated files (asn1/README).  Called by asn1/meson.build:
#
#	gen.sh ASN1C MODULE.asn1... -- OUTPUT...
#
# Each OUTPUT is a path in the build directory; its basename must be a file
# asn1c produced.  asn1c writes into the current directory and copies its
# skeletons from /usr/share/asn1c, so it runs in a private temporary
# directory and only the listed files leave it.  Fails when asn1c is not the
# pinned version, when a listed file was not produced, or when asn1c
# produced a .c/.h file the list does not name (a module change must update
# asn1/meson.build, never be silently dropped).
set -eu

PINNED='ASN.1 Compiler, v0.9.28'
FLAGS='-fcompound-names -fincludes-quoted'

die() {
    echo "asn1/gen.sh: $*" >&2
    exit 1
}

[ $# -ge 3 ] || die "usage: gen.sh ASN1C MODULE.asn1... -- OUTPUT..."
asn1c=$1
shift

version=$("$asn1c" -v 2>&1 | head -n 1) || die "cannot run $asn1c"
[ "$version" = "$PINNED" ] ||
    die "need '$PINNED' (Debian 12 package asn1c 0.9.28+dfsg), found '$version'; see asn1/README"

modules=''
while [ $# -gt 0 ] && [ "$1" != '--' ]; do
    case $1 in
    /*) m=$1 ;;
    *) m=$(pwd)/$1 ;;
    esac
    modules="$modules $m"
    shift
done
[ $# -gt 0 ] || die "missing -- before the output list"
shift
[ -n "$modules" ] || die "no ASN.1 module given"
[ $# -gt 0 ] || die "no output listed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mule-asn1c.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM

# shellcheck disable=SC2086 # FLAGS and modules are word lists on purpose.
if ! (cd "$tmp" && "$asn1c" $FLAGS $modules >asn1c.log 2>&1); then
    cat "$tmp/asn1c.log" >&2
    die "asn1c failed"
fi

listed=' '
for out in "$@"; do
    name=$(basename "$out")
    [ -f "$tmp/$name" ] || die "asn1c did not produce $name (listed in asn1/meson.build)"
    cp "$tmp/$name" "$out" || die "cannot write $out"
    listed="$listed$name "
done

for f in "$tmp"/*.c "$tmp"/*.h; do
    name=$(basename "$f")
    case $name in
    converter-sample.c) continue ;;     # a demo main(), not library code
    esac
    case $listed in
    *" $name "*) ;;
    *) die "asn1c produced $name, which asn1/meson.build does not list" ;;
    esac
done
