/*
 * NAME
 *	mulectl 8
 * SUMMARY
 *	control a running muled
 * SYNOPSIS
 *	mulectl [-c FILE] [-s SOCKET] [--json] COMMAND [ARG...]
 * DESCRIPTION
 *	Sends one command over muled's control socket (control_socket in
 *	muled.conf, default /run/mule/muled.sock; mule/mule_ctl.h has the
 *	protocol) and prints muled's answer: human-readable, or JSON with
 *	--json.  Commands: status, queue, show ID, hold ID, release ID,
 *	delete [-n] ID, flush [ID], emcon on|off|status, reload,
 *	audit verify, stats [--prometheus], peers.
 *
 *	"audit verify -d DIR -k KEYFILE" checks a copy of an audit log
 *	offline, without muled (the key file must be readable).
 *
 *	-c FILE    muled.conf to take control_socket (and, offline, the audit
 *	           directory and key) from; default /etc/mule/muled.conf
 *	-s SOCKET  the control socket (wins over -c)
 *	--json     answers as JSON
 * EXIT STATUS
 *	0 done; 1 refused or failed (muled says why on stderr); 2 usage;
 *	69 muled is not running (no socket, or nobody answers); 77 not
 *	allowed (not root, not muled's user, not in control_group).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "mule/mule_auditlog_fs.h"
#include "mule/mule_conf.h"
#include "mule/mule_ctl.h"
#include "mule/mule_err.h"
#include "tools/common/conffile.h"

#define DEFAULT_CONF   "/etc/mule/muled.conf"
#define DEFAULT_SOCKET "/run/mule/muled.sock"
#define WAIT_MS        120000   /* a queue listing of a big spool takes a while */

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: mulectl [-c FILE] [-s SOCKET] [--json] COMMAND [ARG...]\n"
            "commands:\n"
            "  status                      node, EMCON, listeners, queue, P_MUL counters\n"
            "  queue                       one line per mail\n"
            "  show ID                     one mail: envelope, destinations, states\n"
            "  hold ID | release ID        stop / resume work on a mail\n"
            "  delete [-n] ID              remove a mail (DSN to the sender unless -n)\n"
            "  flush [ID]                  retry waiting deliveries now\n"
            "  emcon on|off|status         emission control (persistent)\n"
            "  reload                      re-read muled.conf and the routing table\n"
            "  audit verify [-d DIR -k KEY]  check the audit log's HMAC chain\n"
            "  stats [--prometheus]        counters (Prometheus text format)\n"
            "  peers                       per P_MUL destination: next MSN, EMCON, loss, FEC\n");
}

/* The control_socket line of a muled.conf that does not parse: the
 * operator who broke it must still reach muled (and hear from "reload"
 * what is wrong). */
static void
scan_socket(const char *text, size_t n, char *out, size_t outlen)
{
    const char *p = text, *end = text + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        const char *k = p;
        while (k < p + len && (*k == ' ' || *k == '\t'))
            k++;
        if ((size_t)(p + len - k) > 14 && strncmp(k, "control_socket", 14) == 0) {
            const char *v = memchr(k, '=', (size_t)(p + len - k));
            if (v != NULL) {
                v++;
                while (v < p + len && (*v == ' ' || *v == '\t'))
                    v++;
                size_t vl = (size_t)(p + len - v);
                while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\r' || v[vl - 1] == '\t'))
                    vl--;
                if (vl > 0 && vl < outlen) {
                    memcpy(out, v, vl);
                    out[vl] = '\0';
                }
            }
        }
        p += len + 1;
    }
}

static char g_scanned_socket[1100];

/* Read muled.conf for the socket path (and audit settings); a file we
 * cannot read is not an error while -s or the defaults serve. */
static int
read_conf(const char *path, mule_conf *c, bool must)
{
    char msg[600];
    buf text;
    int rc;

    buf_init(&text, NULL, CONF_FILE_MAX);
    rc = conf_file_load(path, c, &text, msg, sizeof msg);
    if (rc == CONF_FILE_BAD) {
        scan_socket((const char *)text.data, text.len, g_scanned_socket,
                    sizeof g_scanned_socket);
        fprintf(stderr, "mulectl: warning: %s\n", msg);
    } else if (rc == CONF_FILE_UNREADABLE && must) {
        fprintf(stderr, "mulectl: %s\n", msg);
    }
    buf_fini(&text);
    return rc;
}

static int
audit_offline(const char *dir, const char *keyfile)
{
    uint8_t key[64];
    size_t keylen;
    mule_auditlog_report rep;
    int rc = mule_auditlog_key_load(keyfile, 0, key, sizeof key, &keylen);

    if (rc < 0) {
        fprintf(stderr, "mulectl: audit key %s: %s\n", keyfile, mule_strerror(rc));
        return 1;
    }
    rc = mule_auditlog_verify_dir(dir, key, keylen, &rep);
    memset(key, 0, sizeof key);
    if (rc < 0) {
        fprintf(stderr, "mulectl: %s: %s\n", dir, mule_strerror(rc));
        return 1;
    }
    printf("dir: %s\nok: %s\nfiles: %zu\nrecords: %llu\nlast_seq: %llu\ntorn_tail: %s\n",
           dir, rep.ok ? "yes" : "no", rep.files, (unsigned long long)rep.records,
           (unsigned long long)rep.last_seq, rep.torn_tail ? "yes" : "no");
    if (!rep.ok)
        printf("bad_file: %s\nbad_line: %lu\nwhy: %s\n", rep.bad_file, rep.bad_line, rep.why);
    return rep.ok ? 0 : 1;
}

static int
dial(const char *path)
{
    struct sockaddr_un sa;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "mulectl: %s: path too long\n", path);
        return -EX_USAGE;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        perror("mulectl: socket");
        return -EX_OSERR;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        return fd;
    if (errno == EACCES || errno == EPERM) {
        fprintf(stderr, "mulectl: %s: permission denied: you must be root, muled's user or "
                        "in muled's control_group\n", path);
        close(fd);
        return -EX_NOPERM;
    }
    fprintf(stderr, "mulectl: muled is not running (%s: %s)\n", path, strerror(errno));
    close(fd);
    return -EX_UNAVAILABLE;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read reply frames until the final one; print their text.  Returns the
 * exit status. */
static int
read_replies(int fd)
{
    buf in;
    int ex = EX_PROTOCOL;

    buf_init(&in, NULL, MULE_CTL_HDR_LEN + MULE_CTL_FRAME_MAX);
    for (;;) {
        size_t flen;
        int rc = mule_ctl_frame(in.data, in.len, false, &flen);

        if (rc < 0) {
            fprintf(stderr, "mulectl: malformed answer from muled\n");
            break;
        }
        if (rc == 1) {
            enum mule_ctl_status st;
            const uint8_t *t;
            size_t tl;
            if (mule_ctl_reply_decode(in.data, flen, &st, &t, &tl) < 0) {
                fprintf(stderr, "mulectl: malformed answer from muled\n");
                break;
            }
            fwrite(t, 1, tl, st == MULE_CTL_OK || st == MULE_CTL_MORE ? stdout : stderr);
            memmove(in.data, in.data + flen, in.len - flen);
            in.len -= flen;
            if (st == MULE_CTL_MORE)
                continue;
            ex = st == MULE_CTL_OK ? 0 : st == MULE_CTL_USAGE ? 2 :
                 st == MULE_CTL_DENIED ? EX_NOPERM : 1;
            break;
        }
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, WAIT_MS) <= 0) {
            fprintf(stderr, "mulectl: no answer from muled within %d s\n", WAIT_MS / 1000);
            ex = EX_UNAVAILABLE;
            break;
        }
        if (buf_reserve(&in, 65536) != 0 && buf_reserve(&in, 1) != 0) {
            fprintf(stderr, "mulectl: answer too large\n");
            break;
        }
        ssize_t r = recv(fd, in.data + in.len, in.size - in.len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "mulectl: muled closed the connection before answering\n");
            ex = EX_UNAVAILABLE;
            break;
        }
        in.len += (size_t)r;
    }
    buf_fini(&in);
    return ex;
}

int
main(int argc, char **argv)
{
    const char *conf = NULL, *sock = NULL, *adir = NULL, *akey = NULL;
    unsigned flags = 0;
    const char *args[MULE_CTL_ARGC_MAX];
    size_t nargs = 0;
    mule_conf c;
    bool have_conf;
    buf req;
    int i, fd, ex, rc;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0)
            flags |= MULE_CTL_F_JSON;
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            sock = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    /* The command's own words; --json may also follow it. */
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            flags |= MULE_CTL_F_JSON;
        } else if (nargs > 0 && strcmp(args[0], "audit") == 0 && strcmp(argv[i], "-d") == 0 &&
                   i + 1 < argc) {
            adir = argv[++i];
        } else if (nargs > 0 && strcmp(args[0], "audit") == 0 && strcmp(argv[i], "-k") == 0 &&
                   i + 1 < argc) {
            akey = argv[++i];
        } else if (nargs < MULE_CTL_ARGC_MAX) {
            args[nargs++] = argv[i];
        } else {
            fprintf(stderr, "mulectl: too many arguments\n");
            return 2;
        }
    }
    /* A file given with -c must be readable; one that does not parse
     * still names the socket (muled's "reload" then says what is wrong). */
    rc = read_conf(conf != NULL ? conf : DEFAULT_CONF, &c, conf != NULL);
    have_conf = rc == 0;
    if (conf != NULL && rc == CONF_FILE_UNREADABLE) {
        mule_conf_fini(&c);
        return EX_CONFIG;
    }
    if (strcmp(args[0], "audit") == 0 && (adir != NULL || akey != NULL)) {
        /* Offline: a copy of the log, no muled needed. */
        if (adir == NULL)
            adir = have_conf ? c.audit_dir : NULL;
        if (akey == NULL)
            akey = have_conf ? c.audit_key : NULL;
        if (adir == NULL || akey == NULL || nargs != 2 || strcmp(args[1], "verify") != 0) {
            fprintf(stderr, "usage: mulectl audit verify -d DIR -k KEYFILE\n");
            mule_conf_fini(&c);
            return 2;
        }
        ex = audit_offline(adir, akey);
        mule_conf_fini(&c);
        return ex;
    }
    if (sock == NULL)
        sock = have_conf && c.control_socket != NULL ? c.control_socket :
               g_scanned_socket[0] != '\0' ? g_scanned_socket : DEFAULT_SOCKET;

    buf_init(&req, NULL, MULE_CTL_REQ_MAX);
    if (mule_ctl_req_encode(&req, flags, nargs, args) < 0) {
        fprintf(stderr, "mulectl: an argument is empty, too long or has a control character\n");
        mule_conf_fini(&c);
        return 2;
    }
    fd = dial(sock);
    mule_conf_fini(&c);
    if (fd < 0) {
        buf_fini(&req);
        return -fd;
    }
    /* muled may answer (a refusal) and close before reading the request:
     * the answer is still there to read even when sending failed. */
    (void)write_all(fd, req.data, req.len);
    ex = read_replies(fd);
    close(fd);
    buf_fini(&req);
    return ex;
}
