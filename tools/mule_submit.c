/*
 * NAME
 *	mule-submit 1
 * SUMMARY
 *	hand one mail to muled, like sendmail(1)
 * SYNOPSIS
 *	mule-submit [-C CONF | -d SPOOL_DIR] [-f FROM] [-N NOTIFY] [-R full|hdrs]
 *		[-V ENVID] [-p PRIORITY] [-b BY] [-t] [--] [RCPT...]
 * DESCRIPTION
 *	Reads an RFC 5322 message on standard input, builds its envelope
 *	(RFC 8494 section 4: mule_gw_from_smtp, the same checks as for a
 *	mail that comes in over SMTP) and writes it as a BSMTP-like payload
 *	(bsmtp_payload_build, the one codec of that format) into muled's
 *	pickup directory: SPOOL_DIR/pickup/NAME.tmp, fsync, rename to
 *	SPOOL_DIR/pickup/NAME, fsync the directory.  muled ignores *.tmp,
 *	takes the file into its spool and removes it only once the mail is
 *	durable there.  A zero exit status means the mail is on disk.
 *
 *	-C CONF    muled.conf to take spool_dir and max_message_size from
 *	           (default /etc/mule/muled.conf)
 *	-d DIR     the spool directory (instead of -C)
 *	-f FROM    reverse path (default $USER@hostname; "" or <> for none)
 *	-N NOTIFY  DSN NOTIFY for every recipient: NEVER, or a list of
 *	           SUCCESS, FAILURE, DELAY
 *	-R RET     DSN RET: full or hdrs
 *	-V ENVID   DSN ENVID (xtext)
 *	-p PRIO    MT-PRIORITY -9..9 (P_MUL priority 6 - PRIO)
 *	-b BY      DELIVERBY: seconds;R or seconds;N (RFC 2852)
 *	-t         recipients from To, Cc and Bcc too (Bcc is removed)
 * EXIT STATUS
 *	sysexits(3): 0 queued; 64 usage; 65 bad message or address; 66 no
 *	input; 73 cannot create the file; 75 temporary failure (disk full):
 *	try again; 78 configuration.
 * LICENSE
 *	MIT (see LICENSE).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_conf.h"
#include "mule/mule_err.h"
#include "mule/mule_gw.h"
#include "mule/mule_hdr.h"
#include "pmul/util/buf.h"
#include "pmul/util/num.h"
#include "tools/common/conffile.h"
#include "tools/common/fileio.h"

#define DEFAULT_CONF "/etc/mule/muled.conf"
#define MAX_RCPTS 1000

static const char *prog = "mule-submit";

__attribute__((format(printf, 2, 3)))
static int
die(int code, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* Recipients of one header field value: <addr> where given, else the bare
 * word; group names and comments are not parsed (sendmail -t is no MUA). */
static int
header_rcpts(const char *v, char **list, size_t *cnt)
{
    char *copy = strdup(v), *save = NULL, *item;

    if (copy == NULL)
        return -1;
    for (item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char *lt = strchr(item, '<'), *gt, *a = item;

        if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
            *gt = '\0';
            a = lt + 1;
        } else {
            while (*a == ' ' || *a == '\t')
                a++;
            a[strcspn(a, " \t")] = '\0';
        }
        if (*a == '\0' || strchr(a, '@') == NULL)
            continue;
        if (*cnt == MAX_RCPTS || (list[*cnt] = strdup(a)) == NULL) {
            free(copy);
            return -1;
        }
        (*cnt)++;
    }
    free(copy);
    return 0;
}

/* -t: add To/Cc/Bcc recipients; drop Bcc fields from msg. */
static int
take_header_rcpts(buf *msg, char **list, size_t *cnt)
{
    mule_hdr_iter it;
    mule_hdr_field f;
    buf out;
    size_t hdr_len = 0, body_off = 0;
    const uint8_t *p = msg->data;

    mule_hdr_section(msg->data, msg->len, &hdr_len, &body_off);
    buf_init(&out, NULL, SIZE_MAX);
    mule_hdr_iter_init(&it, msg->data, msg->len);
    while (mule_hdr_next(&it, &f)) {
        char v[8192];
        bool bcc = mule_hdr_is(&f, "Bcc");

        if (bcc || mule_hdr_is(&f, "To") || mule_hdr_is(&f, "Cc")) {
            mule_hdr_unfold(f.raw, f.raw_len, true, v, sizeof(v), NULL);
            if (header_rcpts(v, list, cnt) < 0) {
                buf_fini(&out);
                return -1;
            }
        }
        if (!bcc) {
            /* The whole field: name through the end of its last line. */
            const uint8_t *end = f.raw + f.raw_len;

            if (end < p + msg->len && *end == '\r')
                end++;
            if (end < p + msg->len && *end == '\n')
                end++;
            if (buf_append(&out, f.name, (size_t)(end - f.name)) != 0) {
                buf_fini(&out);
                return -1;
            }
        }
    }
    if (buf_append(&out, p + hdr_len, msg->len - hdr_len) != 0) {
        buf_fini(&out);
        return -1;
    }
    buf_fini(msg);
    *msg = out;
    return 0;
}

/* Write payload to DIR/pickup/NAME.tmp, fsync, rename, fsync pickup/. */
static int
write_pickup(const char *spool, const buf *payload, char *name, size_t namelen)
{
    char dir[4096], tmp[4400], dst[4400];
    struct timespec ts;
    int rc;

    snprintf(dir, sizeof(dir), "%s/pickup", spool);
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, namelen, "%lld.%09ld.%d", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
    snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    if ((rc = fio_write_file(tmp, 1, payload->data, payload->len, NULL, 0)) != 0)
        return rc;
    /* muled runs as its own user (muled.conf "user"): a file root writes
     * must become that user's, or muled could neither read nor take it. */
    struct stat st;
    if (geteuid() == 0 && stat(dir, &st) == 0 && st.st_uid != 0 &&
        chown(tmp, st.st_uid, st.st_gid) != 0) {
        rc = -errno;
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, dst) < 0) {
        rc = -errno;
        unlink(tmp);
        return rc;
    }
    return fio_fsync_dir(dir);
}

static int
load_conf(const char *path, mule_conf *c)
{
    char msg[600];

    if (conf_file_load(path, c, NULL, msg, sizeof msg) < 0) {
        fprintf(stderr, "%s: %s\n", prog, msg);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *conf_path = NULL, *spool = NULL, *from = NULL, *notify = NULL, *ret = NULL,
               *envid = NULL, *prio = NULL, *by = NULL;
    bool from_headers = false;
    char *rcpt_list[MAX_RCPTS], mail_params[512] = "", rcpt_params[128] = "", def_from[300];
    char name[128], path[4200];
    size_t rcpt_cnt = 0, max_size = 10u << 20, bad = 0;
    mule_smtp_rcpt rcpts[MAX_RCPTS];
    mule_conf cf;
    buf msg, payload;
    bsmtp_envelope *env = NULL;
    int o, rc, code = 0;

    mule_conf_default(&cf);
    while ((o = getopt(argc, argv, "C:d:f:N:R:V:p:b:ti")) != -1) {
        switch (o) {
        case 'C': conf_path = optarg; break;
        case 'd': spool = optarg; break;
        case 'f': from = optarg; break;
        case 'N': notify = optarg; break;
        case 'R': ret = optarg; break;
        case 'V': envid = optarg; break;
        case 'p': prio = optarg; break;
        case 'b': by = optarg; break;
        case 't': from_headers = true; break;
        case 'i': break;                /* sendmail compatibility: no dot handling */
        default:
            fprintf(stderr, "usage: %s [-C CONF | -d SPOOL_DIR] [-f FROM] [-N NOTIFY] "
                            "[-R full|hdrs] [-V ENVID] [-p PRIO] [-b BY] [-t] [--] RCPT...\n",
                    prog);
            return EX_USAGE;
        }
    }
    if (spool == NULL) {
        if (load_conf(conf_path != NULL ? conf_path : DEFAULT_CONF, &cf) < 0)
            return EX_CONFIG;
        spool = cf.spool_dir;
        max_size = cf.max_message_size;
    }
    if (from == NULL) {
        char host[256] = "localhost";
        const char *user = getenv("USER");

        gethostname(host, sizeof(host) - 1);
        snprintf(def_from, sizeof(def_from), "%s@%s", user != NULL ? user : "root", host);
        from = def_from;
    }
    if (strcmp(from, "<>") == 0)
        from = "";
    for (int i = optind; i < argc; i++) {
        if (rcpt_cnt == MAX_RCPTS) {
            code = die(EX_USAGE, "more than %d recipients", MAX_RCPTS);
            goto out;
        }
        if ((rcpt_list[rcpt_cnt] = strdup(argv[i])) == NULL) {
            code = die(EX_TEMPFAIL, "%s", "out of memory");
            goto out;
        }
        rcpt_cnt++;
    }
    if (prio != NULL) {
        uint64_t v;
        bool neg = prio[0] == '-';

        if (num_parse_u64(prio + (neg || prio[0] == '+'), 0, 9, &v) != 0) {
            code = die(EX_USAGE, "-p '%s': want an MT-PRIORITY -9..9", prio);
            goto out;
        }
        snprintf(mail_params + strlen(mail_params), sizeof(mail_params) - strlen(mail_params),
                 " MT-PRIORITY=%s%u", neg ? "-" : "", (unsigned)v);
    }
    if (ret != NULL)
        snprintf(mail_params + strlen(mail_params), sizeof(mail_params) - strlen(mail_params),
                 " RET=%s", strcasecmp(ret, "hdrs") == 0 ? "HDRS" : ret);
    if (envid != NULL)
        snprintf(mail_params + strlen(mail_params), sizeof(mail_params) - strlen(mail_params),
                 " ENVID=%s", envid);
    if (by != NULL)
        snprintf(mail_params + strlen(mail_params), sizeof(mail_params) - strlen(mail_params),
                 " BY=%s", by);
    if (notify != NULL)
        snprintf(rcpt_params, sizeof(rcpt_params), "NOTIFY=%s", notify);

    buf_init(&msg, NULL, SIZE_MAX);
    buf_init(&payload, NULL, SIZE_MAX);
    rc = fio_read_fd(0, max_size, &msg);
    if (rc == -EFBIG) {
        code = die(EX_DATAERR, "message larger than max_message_size (%zu octets)", max_size);
        goto out2;
    }
    if (rc < 0) {
        code = die(EX_NOINPUT, "reading the message: %s", strerror(-rc));
        goto out2;
    }
    if (from_headers && take_header_rcpts(&msg, rcpt_list, &rcpt_cnt) < 0) {
        code = die(EX_DATAERR, "%s", "cannot take recipients from the header");
        goto out2;
    }
    if (rcpt_cnt == 0) {
        code = die(EX_USAGE, "%s", "no recipients");
        goto out2;
    }
    for (size_t i = 0; i < rcpt_cnt; i++) {
        rcpts[i].addr = rcpt_list[i];
        rcpts[i].params = rcpt_params[0] != '\0' ? rcpt_params : NULL;
    }
    snprintf(mail_params + strlen(mail_params), sizeof(mail_params) - strlen(mail_params),
             " SIZE=%zu", msg.len);
    rc = mule_gw_from_smtp(from, mail_params + 1, rcpts, rcpt_cnt, NULL, &env, &bad);
    if (rc < 0) {
        fprintf(stderr, "%s: %s%s%s: %s\n", prog, bad == SIZE_MAX ? "sender or parameters" : "recipient ",
                bad == SIZE_MAX ? "" : "<", bad == SIZE_MAX ? "" : rcpt_list[bad < rcpt_cnt ? bad : 0],
                mule_strerror(rc));
        code = rc == MULE_ERR_NOMEM ? EX_TEMPFAIL : EX_DATAERR;
        goto out2;
    }
    rc = bsmtp_payload_build(env, msg.data, msg.len, &payload);
    if (rc < 0) {
        code = die(EX_DATAERR, "cannot encode the mail: %s", mule_strerror(rc));
        goto out2;
    }
    rc = write_pickup(spool, &payload, name, sizeof(name));
    if (rc < 0) {
        snprintf(path, sizeof(path), "%s/pickup: %s", spool, strerror(-rc));
        code = die(rc == -ENOSPC || rc == -EDQUOT || rc == -EIO || rc == -ENOMEM ? EX_TEMPFAIL
                                                                             : EX_CANTCREAT,
                   "%s", path);
        goto out2;
    }
out2:
    bsmtp_envelope_free(env);
    buf_fini(&msg);
    buf_fini(&payload);
out:
    for (size_t i = 0; i < rcpt_cnt; i++)
        free(rcpt_list[i]);
    mule_conf_fini(&cf);
    return code;
}
