#!/bin/sh
# NAME
#	check_layers.sh - enforce the include layers and the sans-I/O cores
# SYNOPSIS
#	check_layers.sh SRCDIR [LIBRARY.a ...]
# DESCRIPTION
#	Turns the layer rules of docs/architecture.md (style.md 1) into a test.
#
#	Includes, read from the #include lines of SRCDIR:
#	  pmul/util/	only libc headers, and its own headers;
#	  pmul/		only libc headers and headers under pmul/;
#	  pmul/ mule/ bsmtp/
#			no uv.h, openssl/ or pcap headers, except in files
#			named *_uv, *_io, *_pcap and *_pcap_* (.c or .h: the adapters).
#	Symbols: `nm -u` on each static library given (pmul_core, pmul_util,
#	mule_core, bsmtp_proto): none may need uv_*, socket, sendto,
#	recvfrom, clock_gettime, gettimeofday, time, rand, random or
#	getrandom.  A library path that does not exist (a library not yet in
#	the build) is skipped with a SKIP line, never silently.
#
#	Before checking the tree the script checks itself: it plants
#	violations in a scratch tree and in fake nm output and fails unless
#	each is caught.
# DIAGNOSTICS
#	One "FAIL file:line: reason" line per violation; exit 1 if any,
#	77 (skip) if SRCDIR is missing, 0 otherwise.
# SEE ALSO
#	docs/architecture.md, tests/unit/meson.build (registration).
# LICENSE
#	MIT, see LICENSE.
set -u

# C11 and POSIX headers (what "libc" means here).  Anything else in angle
# brackets is a third-party or platform header.
LIBC_HEADERS='assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h
iso646.h limits.h locale.h math.h setjmp.h signal.h stdalign.h stdarg.h
stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h
string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fmtmsg.h fnmatch.h ftw.h
glob.h grp.h iconv.h langinfo.h libgen.h monetary.h mqueue.h ndbm.h net/if.h
netdb.h netinet/in.h netinet/tcp.h nl_types.h poll.h pthread.h pwd.h regex.h
sched.h search.h semaphore.h spawn.h strings.h sys/ipc.h sys/mman.h
sys/msg.h sys/resource.h sys/select.h sys/sem.h sys/shm.h sys/socket.h
sys/stat.h sys/statvfs.h sys/time.h sys/times.h sys/types.h sys/uio.h
sys/un.h sys/utsname.h sys/wait.h syslog.h tar.h termios.h ulimit.h
unistd.h utime.h utmpx.h wordexp.h endian.h sys/file.h sys/param.h
netinet/ip.h netinet/udp.h net/ethernet.h sys/ioctl.h ifaddrs.h'

# Symbols a sans-I/O core must not need.
FORBIDDEN_SYMS='^(uv_.*|socket|sendto|recvfrom|clock_gettime|gettimeofday|time|rand|random|getrandom)$'

fails=0

fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

is_libc() {
	for h in $LIBC_HEADERS; do
		[ "$h" = "$1" ] && return 0
	done
	return 1
}

is_adapter() {
	case "$1" in
	*_uv.[ch]|*_io.[ch]|*_pcap.[ch]|*_pcap_*.[ch]) return 0 ;;
	esac
	return 1
}

# Print "line<TAB>kind<TAB>name" for each #include of a file; kind is
# "sys" for <name> and "quote" for "name".
includes_of() {
	awk '{
		if (!match($0, /^[ \t]*#[ \t]*include[ \t]*[<"][^>"]*[>"]/))
			next
		s = substr($0, RSTART, RLENGTH)
		sub(/^[ \t]*#[ \t]*include[ \t]*/, "", s)
		kind = substr(s, 1, 1) == "<" ? "sys" : "quote"
		print NR "\t" kind "\t" substr(s, 2, length(s) - 2)
	}' "$1"
}

# check_tree ROOT: the include rules over ROOT/pmul, ROOT/mule, ROOT/bsmtp.
check_tree() {
	root=$1
	for dir in pmul mule bsmtp; do
		[ -d "$root/$dir" ] || continue
		find "$root/$dir" -type f \( -name '*.c' -o -name '*.h' \) | sort |
		while IFS= read -r f; do
			rel=${f#"$root"/}
			base=${f##*/}
			includes_of "$f" | while IFS="$(printf '\t')" read -r ln kind name; do
				# Rule 3: libuv, OpenSSL and libpcap only in adapters.
				case "$name" in
				uv.h|uv/*|openssl/*|pcap.h|pcap/*)
					if ! is_adapter "$base"; then
						echo "FAIL $rel:$ln: includes <$name> (only the adapters *_uv, *_io, *_pcap, *_pcap_* may)"
					fi
					continue ;;
				esac
				case "$rel" in
				pmul/util/*)
					# Rule 1: L0 includes libc and itself only.
					if [ "$kind" = sys ]; then
						is_libc "$name" ||
						    echo "FAIL $rel:$ln: pmul/util includes non-libc <$name>"
					else
						case "$name" in
						pmul/util/*) target=$root/$name ;;
						*/*) target= ;;
						*) target=$root/pmul/util/$name ;;
						esac
						if [ -z "$target" ] || [ ! -f "$target" ]; then
							echo "FAIL $rel:$ln: pmul/util includes \"$name\" from outside pmul/util"
						fi
					fi ;;
				pmul/*)
					# Rule 2: the P_MUL layer includes pmul/ and libc only.
					if [ "$kind" = sys ]; then
						is_libc "$name" ||
						    echo "FAIL $rel:$ln: pmul/ includes non-libc <$name>"
					else
						case "$name" in
						pmul/*) ;;
						*/*) echo "FAIL $rel:$ln: pmul/ includes \"$name\" from outside pmul/" ;;
						*)
							[ -f "${f%/*}/$name" ] ||
							    echo "FAIL $rel:$ln: pmul/ includes \"$name\", not a sibling under pmul/" ;;
						esac
					fi ;;
				esac
			done
		done
	done
}

# check_syms LABEL: read `nm -u` output on stdin, report forbidden symbols.
check_syms() {
	awk '$1 == "U" { print $2 } NF == 1 && $1 !~ /:$/ { print $1 }' |
	    sed 's/@.*//' | sort -u | grep -E "$FORBIDDEN_SYMS" |
	    while IFS= read -r sym; do
		echo "FAIL $1: needs $sym (cores do no I/O, read no clock, draw no randomness)"
	    done
}

# ---- self-check: each planted violation must be reported ------------------
selftest() {
	tmp=$(mktemp -d) || return 1
	mkdir -p "$tmp/pmul/util" "$tmp/mule" "$tmp/bsmtp"
	printf '#include <stdint.h>\n#include "cur.h"\n#include <uv.h>\n' >"$tmp/pmul/util/a.c"
	printf '#include <zlib.h>\n#include "../mule/x.h"\n' >"$tmp/pmul/util/cur.h"
	printf '#include "pmul/util/cur.h"\n#include "mule/mule_err.h"\n#include <pcap/pcap.h>\n' \
	    >"$tmp/pmul/pmul_engine.c"
	printf '#include <uv.h>\n#include <pcap.h>\n' >"$tmp/pmul/pmul_uv.c"
	printf '# include <openssl/ssl.h>\n' >"$tmp/bsmtp/bsmtp_proto.c"
	printf '#include <openssl/ssl.h>\n' >"$tmp/bsmtp/bsmtp_io.c"
	printf '#include <zlib.h>\n' >"$tmp/mule/mule_cdt.c"
	out=$(check_tree "$tmp")
	rm -rf "$tmp"
	want='pmul/util/a.c:3: includes <uv.h>
pmul/util/cur.h:1: pmul/util includes non-libc <zlib.h>
pmul/util/cur.h:2: pmul/util includes "../mule/x.h"
pmul/pmul_engine.c:2: pmul/ includes "mule/mule_err.h"
pmul/pmul_engine.c:3: includes <pcap/pcap.h>
bsmtp/bsmtp_proto.c:1: includes <openssl/ssl.h>'
	echo "$want" | while IFS= read -r w; do
		echo "$out" | grep -qF "$w" || echo "SELFTEST missed: $w"
	done
	n=$(echo "$out" | grep -c '^FAIL')
	[ "$n" -eq 6 ] || echo "SELFTEST expected 6 include findings, got $n: $out"
	syms=$(printf 'a.o:\n                 U memcpy\n                 U time\n                 U uv_run\n                 U timegm\n                 U clock_gettime@GLIBC_2.17\n                 U randomize\n' |
	    check_syms fake)
	for s in time uv_run clock_gettime; do
		echo "$syms" | grep -q "needs $s " || echo "SELFTEST missed symbol $s"
	done
	echo "$syms" | grep -q 'needs \(timegm\|memcpy\|randomize\)' &&
	    echo "SELFTEST flagged an allowed symbol: $syms"
	return 0
}

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "SKIP: usage: $0 SRCDIR [LIBRARY.a ...]"
	exit 77
fi
src=$1
shift

st=$(selftest)
if [ -n "$st" ]; then
	echo "$st"
	echo "check_layers: the checker itself is broken"
	exit 1
fi

out=$(check_tree "$src")
if [ -n "$out" ]; then
	echo "$out"
	fails=$((fails + $(echo "$out" | grep -c '^FAIL')))
fi
echo "includes: checked pmul/ mule/ bsmtp/ under $src"

if ! command -v nm >/dev/null 2>&1; then
	fail "nm not found: cannot check the libraries"
fi
for lib in "$@"; do
	if [ ! -f "$lib" ]; then
		echo "SKIP $lib: not built"
		continue
	fi
	out=$(nm -u "$lib" 2>&1 | check_syms "${lib##*/}")
	if [ -n "$out" ]; then
		echo "$out"
		fails=$((fails + $(echo "$out" | grep -c '^FAIL')))
	else
		echo "ok   ${lib##*/}: no I/O, clock or randomness symbols"
	fi
done

if [ "$fails" -gt 0 ]; then
	echo "check_layers: $fails violation(s)"
	exit 1
fi
echo "check_layers: ok"
exit 0
