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
#	  bsmtp/	"dir/..." includes only from bsmtp/ and pmul/util/ (bsmtp
#			sits beside mule, below it: never mule/, pmul/ or netsim/);
#	  mule/		"dir/..." includes only from mule/, bsmtp/, pmul/util/ and
#			pmul/pmul_err.h, pmul/pmul_pdu.h: never the P_MUL engine
#			(pmul_engine, rx, tx, ...) or a program's folder.  The one
#			exception is mule/mule_err.c, which names every library's
#			codes and so includes every *_err.h (data only);
#	  pmul/ mule/ bsmtp/
#			no uv.h, openssl/ or pcap headers, except in files
#			named *_uv, *_io, *_pcap and *_pcap_* (.c or .h: the adapters);
#			and libcrypto's computation headers (openssl/evp.h,
#			crypto.h, params.h, rand.h) in mule/mule_auditlog* (the
#			audit log's HMAC: arithmetic, no I/O), and openssl/evp.h,
#			crypto.h, params.h, core_names.h in pmul/pmul_auth* (the
#			authenticated mode's HMAC; no randomness either).
#	  pmul/pmul_fec*
#			may also include ISA-L's <isa-l.h> and <isa-l/...>
#			(GF(2^8) Reed-Solomon: arithmetic, no I/O); no other
#			file may.
#	I/O in the sans-I/O cores, read from the sources of pmul/, mule/
#	and bsmtp/: no call of malloc, calloc, realloc, free (memory comes
#	through the injected mem), fopen, open, openat, creat, write, pwrite,
#	fwrite, fsync, fdatasync, rename, renameat, unlink or mkstemp, and no
#	printf, fprintf, puts or fputs, except in the adapters (files named
#	*_uv, *_io, *_fs, *_pcap, *_pcap_*) and in pmul/util/mem.c (the libc
#	allocator behind mem) and pmul/util/log.c (the stderr sink).
#	Symbols: `nm -u` on each static library given (pmul_core, pmul_util,
#	mule_core, bsmtp_proto): none may need uv_*, socket, sendto,
#	recvfrom, clock_gettime, gettimeofday, time, rand, random or
#	getrandom; and, per object file, none but the adapters' and mem.c's
#	and log.c's may need the I/O functions above (generated asn1c
#	libraries, libasn1*, are exempt from this part).  A library path that
#	does not exist (a library not yet in the build) is skipped with a SKIP
#	line, never silently.
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

# Functions only adapters may call: direct allocation (cores use the
# injected mem), files, and printing (libraries log through log.h).
IO_FUNCS='malloc|calloc|realloc|free|fopen|open|openat|creat|write|pwrite|fwrite|fsync|fdatasync|rename|renameat|unlink|mkstemp|printf|fprintf|puts|fputs'
IO_SYMS="^($IO_FUNCS)(64)?\$"

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

# May this file (base name, a source or an object "x.c.o") do I/O?  The
# adapters, including the file-system ones (*_fs), and the two L0 files
# that stand for libc: mem.c (the allocator behind mem) and log.c (the
# stderr sink).
may_do_io() {
	case "$1" in
	*_uv.[ch]|*_io.[ch]|*_fs.[ch]|*_pcap.[ch]|*_pcap_*.[ch]) return 0 ;;
	*_uv.c.o|*_io.c.o|*_fs.c.o|*_pcap.c.o|*_pcap_*.c.o) return 0 ;;
	mem.c|log.c|mem.c.o|log.c.o) return 0 ;;
	esac
	return 1
}

# Print "line<TAB>function" for each call of an I/O function in a C file:
# a name from IO_FUNCS directly followed by "(", not part of a longer
# identifier and not a member call (m->free(, ops.write().  Comment lines
# (starting with /*, * or //) and string contents are ignored.
io_calls_of() {
	awk -v funcs="$IO_FUNCS" '
	/^[ \t]*(\/\*|\*|\/\/)/ { next }
	{
		line = $0
		gsub(/"([^"\\]|\\.)*"/, "\"\"", line)
		sub(/\/\/.*/, "", line)
		sub(/\/\*.*/, "", line)
		rest = line
		while (match(rest, "(^|[^A-Za-z0-9_>.])(" funcs ")\\(")) {
			s = substr(rest, RSTART, RLENGTH - 1)
			sub(/^[^A-Za-z_]/, "", s)
			print NR "\t" s
			rest = substr(rest, RSTART + RLENGTH)
		}
	}' "$1"
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

# check_tree ROOT: the include and I/O rules over ROOT/pmul, ROOT/mule,
# ROOT/bsmtp.
check_tree() {
	root=$1
	for dir in pmul mule bsmtp; do
		[ -d "$root/$dir" ] || continue
		find "$root/$dir" -type f \( -name '*.c' -o -name '*.h' \) | sort |
		while IFS= read -r f; do
			rel=${f#"$root"/}
			base=${f##*/}
			# Rule 6: no I/O outside the adapters.
			if ! may_do_io "$base"; then
				io_calls_of "$f" | while IFS="$(printf '\t')" read -r ln fn; do
					echo "FAIL $rel:$ln: calls $fn() (sans-I/O core: only the adapters *_uv, *_io, *_fs, *_pcap may do I/O; memory comes through mem)"
				done
			fi
			includes_of "$f" | while IFS="$(printf '\t')" read -r ln kind name; do
				# Rule 3: libuv, OpenSSL and libpcap only in adapters.
				case "$name" in
				openssl/evp.h|openssl/crypto.h|openssl/params.h|openssl/rand.h|openssl/core_names.h)
					case "$rel:$name" in
					mule/mule_auditlog*:openssl/core_names.h) ;;
					mule/mule_auditlog*) continue ;;
					pmul/pmul_auth*:openssl/rand.h) ;;
					pmul/pmul_auth*) continue ;;
					esac
					if ! is_adapter "$base"; then
						echo "FAIL $rel:$ln: includes <$name> (only the adapters *_uv, *_io, *_pcap, *_pcap_* may)"
					fi
					continue ;;
				isa-l.h|isa-l/*)
					# ISA-L is arithmetic: allowed only in the FEC
					# codec, which keeps it out of every header.
					case "$rel" in
					pmul/pmul_fec*) continue ;;
					esac
					echo "FAIL $rel:$ln: includes <$name> (only pmul/pmul_fec* may include ISA-L)"
					continue ;;
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
				bsmtp/*)
					# Rule 4: bsmtp knows nothing above or beside it.
					[ "$kind" = quote ] || continue
					case "$name" in
					bsmtp/*|pmul/util/*) ;;
					*/*) echo "FAIL $rel:$ln: bsmtp/ includes \"$name\" (only bsmtp/ and pmul/util/)" ;;
					esac ;;
				mule/*)
					# Rule 5: mule never sees the P_MUL engine.
					[ "$kind" = quote ] || continue
					case "$name" in
					mule/*|bsmtp/*|pmul/util/*|pmul/pmul_err.h|pmul/pmul_pdu.h) ;;
					*/*_err.h)
						[ "$rel" = mule/mule_err.c ] ||
						    echo "FAIL $rel:$ln: mule/ includes \"$name\" (only mule/mule_err.c names other libraries' codes)" ;;
					*/*) echo "FAIL $rel:$ln: mule/ includes \"$name\" (not the P_MUL engine, nor a program: only mule/, bsmtp/, pmul/util/, pmul/pmul_err.h, pmul/pmul_pdu.h)" ;;
					esac ;;
				esac
			done
		done
	done
}

# check_syms LABEL [io]: read `nm -u` output on stdin, report forbidden
# symbols; with "io", also the I/O functions, per object file (the
# "member.o:" lines of nm), except in the objects may_do_io() allows.
check_syms() {
	nmout=$(cat)
	printf '%s\n' "$nmout" |
	    awk '$1 == "U" { print $2 } NF == 1 && $1 !~ /:$/ { print $1 }' |
	    sed 's/@.*//' | sort -u | grep -E "$FORBIDDEN_SYMS" |
	    while IFS= read -r sym; do
		echo "FAIL $1: needs $sym (cores do no I/O, read no clock, draw no randomness)"
	    done
	[ "${2:-}" = io ] || return 0
	printf '%s\n' "$nmout" |
	    awk '/:$/ { obj = $1; sub(/:$/, "", obj); n = split(obj, p, "/"); obj = p[n]; next }
	     $1 == "U" { print obj "\t" $2 }' |
	    sed 's/@[^	]*$//' | sort -u |
	    while IFS="$(printf '\t')" read -r obj sym; do
		echo "$sym" | grep -Eq "$IO_SYMS" || continue
		may_do_io "$obj" && continue
		echo "FAIL $1: $obj needs $sym (only adapters *_uv, *_io, *_fs, *_pcap do I/O)"
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
	printf '#include <isa-l/erasure_code.h>\n#include <isa-l.h>\n' >"$tmp/pmul/pmul_fec.c"
	printf '#include <isa-l/erasure_code.h>\n' >"$tmp/pmul/pmul_rx.c"
	printf '#include <isa-l.h>\n' >"$tmp/mule/mule_fec.c"
	# The HMAC exemption of pmul_auth: computation headers only, that file only.
	printf '#include <openssl/evp.h>\n#include <openssl/core_names.h>\n#include <openssl/rand.h>\n#include <openssl/ssl.h>\n' \
	    >"$tmp/pmul/pmul_auth.c"
	printf '#include <openssl/evp.h>\n' >"$tmp/pmul/pmul_tx.c"
	printf '# include <openssl/ssl.h>\n' >"$tmp/bsmtp/bsmtp_proto.c"
	printf '#include <openssl/ssl.h>\n' >"$tmp/bsmtp/bsmtp_io.c"
	printf '#include <zlib.h>\n' >"$tmp/mule/mule_cdt.c"
	# Layer rules 4 and 5, and what they allow.
	printf '#include "bsmtp/bsmtp_err.h"\n#include "mule/mule_route.h"\n#include "pmul/util/buf.h"\n#include "pmul/pmul_pdu.h"\n' \
	    >"$tmp/bsmtp/bsmtp_client.c"
	printf '#include "mule/mule_err.h"\n#include "bsmtp/bsmtp_payload.h"\n#include "pmul/pmul_err.h"\n#include "pmul/pmul_engine.h"\n#include "netsim/netsim_err.h"\n#include "tools/muled/conf.h"\n#include "CompressedData-Explicit.h"\n' \
	    >"$tmp/mule/mule_node.c"
	printf '#include "netsim/netsim_err.h"\n#include "pmul/pmul_err.h"\n' >"$tmp/mule/mule_err.c"
	# Rule 6: I/O calls in cores are reported, in adapters and in
	# comments, strings, member calls and longer names they are not.
	printf 'int f(void)\n{\n    int fd = open("x", 0);\n    /* write(fd) in a comment */\n    m->free(p);\n    mem_free(m, p);\n    log_printf("fsync(");\n    (void)fsync(fd); return rename("a", "b");\n}\n' \
	    >"$tmp/mule/mule_spool.c"
	printf 'int g(void)\n{\n    char *p = malloc(4);\n    free(p);\n    return 0;\n}\n' >"$tmp/bsmtp/bsmtp_x.c"
	printf 'int h(int fd)\n{\n    return fsync(fd) + rename("a", "b") + open("c", 0);\n}\n' \
	    >"$tmp/mule/mule_spool_fs.c"
	out=$(check_tree "$tmp")
	rm -rf "$tmp"
	want='pmul/util/a.c:3: includes <uv.h>
pmul/util/cur.h:1: pmul/util includes non-libc <zlib.h>
pmul/util/cur.h:2: pmul/util includes "../mule/x.h"
pmul/pmul_engine.c:2: pmul/ includes "mule/mule_err.h"
pmul/pmul_engine.c:3: includes <pcap/pcap.h>
pmul/pmul_auth.c:3: includes <openssl/rand.h>
pmul/pmul_auth.c:4: includes <openssl/ssl.h>
pmul/pmul_tx.c:1: includes <openssl/evp.h>
bsmtp/bsmtp_proto.c:1: includes <openssl/ssl.h>
bsmtp/bsmtp_client.c:2: bsmtp/ includes "mule/mule_route.h"
bsmtp/bsmtp_client.c:4: bsmtp/ includes "pmul/pmul_pdu.h"
mule/mule_node.c:4: mule/ includes "pmul/pmul_engine.h"
mule/mule_node.c:5: mule/ includes "netsim/netsim_err.h"
mule/mule_node.c:6: mule/ includes "tools/muled/conf.h"
mule/mule_spool.c:3: calls open()
mule/mule_spool.c:8: calls fsync()
mule/mule_spool.c:8: calls rename()
bsmtp/bsmtp_x.c:3: calls malloc()
bsmtp/bsmtp_x.c:4: calls free()
pmul/pmul_rx.c:1: includes <isa-l/erasure_code.h>
mule/mule_fec.c:1: includes <isa-l.h>'
	echo "$want" | while IFS= read -r w; do
		echo "$out" | grep -qF "$w" || echo "SELFTEST missed: $w"
	done
	n=$(echo "$out" | grep -c '^FAIL')
	[ "$n" -eq 21 ] || echo "SELFTEST expected 21 findings, got $n: $out"
	syms=$(printf 'a.o:\n                 U memcpy\n                 U time\n                 U uv_run\n                 U timegm\n                 U clock_gettime@GLIBC_2.17\n                 U randomize\n' |
	    check_syms fake)
	for s in time uv_run clock_gettime; do
		echo "$syms" | grep -q "needs $s " || echo "SELFTEST missed symbol $s"
	done
	echo "$syms" | grep -q 'needs \(timegm\|memcpy\|randomize\)' &&
	    echo "SELFTEST flagged an allowed symbol: $syms"
	# Per object: a core object needing fsync or malloc is reported, an
	# adapter or mem.c needing them is not, and without "io" nothing is.
	nmfake='lib/libx.a.p/mule_spool.c.o:
                 U fsync@GLIBC_2.2.5
                 U memcpy
lib/libx.a.p/mule_spool_fs.c.o:
                 U fsync
                 U rename
mem.c.o:
                 U malloc
bsmtp_client.c.o:
                 U malloc
                 U write
                 U writev_like'
	syms=$(printf '%s\n' "$nmfake" | check_syms fake io)
	for w in 'mule_spool.c.o needs fsync' 'bsmtp_client.c.o needs malloc' 'bsmtp_client.c.o needs write '; do
		echo "$syms" | grep -qF "$w" || echo "SELFTEST missed: $w"
	done
	n=$(echo "$syms" | grep -c '^FAIL')
	[ "$n" -eq 3 ] || echo "SELFTEST expected 3 I/O symbol findings, got $n: $syms"
	syms=$(printf '%s\n' "$nmfake" | check_syms fake)
	[ -z "$syms" ] || echo "SELFTEST flagged I/O without io: $syms"
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
	# asn1c's generated runtime allocates with malloc and can print
	# (xer_fprint); it is not ours to change, so only the clock rule
	# applies to it.
	case "${lib##*/}" in
	libasn1*) io= ;;
	*) io=io ;;
	esac
	out=$(nm -u "$lib" 2>&1 | check_syms "${lib##*/}" $io)
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
