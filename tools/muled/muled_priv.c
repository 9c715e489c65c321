/*
 * muled_priv.c: privilege separation and confinement, and the systemd
 * readiness message.
 *
 * muled starts as root only to bind its sockets (ports below 1024 if
 * configured), to read its keys and to own its directories.  Then:
 *
 *   1. the spool, audit and Maildir trees are handed to `user` (only files
 *      not already its own are touched, so a restart costs a walk);
 *   2. supplementary groups, gid, uid are dropped to that user; muled checks
 *      that root cannot be regained;
 *   3. Landlock (Linux 5.13+, no library needed) limits every later write,
 *      create, rename or remove to those directories and the control
 *      socket's: a compromised muled cannot plant files elsewhere.  Reading
 *      stays open (the configuration, routing table and TLS files are
 *      re-read on reload).  A write probe outside proves it took.
 *
 * Without root (a test or a user's own instance) step 1 and 2 are skipped
 * and step 3 still applies.  Where the kernel has no Landlock, muled says
 * so in its log and in `mulectl status` and runs unconfined.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/muled/muled.h"

/* ---- who muled runs as ------------------------------------------------ */

int
muled_priv_resolve(muled *d, char *err, size_t errlen)
{
    struct passwd *pw;
    struct group *gr;

    d->run_uid = (unsigned)geteuid();
    d->run_gid = (unsigned)getegid();
    if (geteuid() == 0 && strcmp(d->cf.user, "root") != 0) {
        if ((pw = getpwnam(d->cf.user)) == NULL) {
            snprintf(err, errlen, "user %s does not exist (create it: useradd --system "
                     "--no-create-home --shell /usr/sbin/nologin %s; or set user = root)",
                     d->cf.user, d->cf.user);
            return -1;
        }
        if (pw->pw_uid == 0) {
            snprintf(err, errlen, "user %s has uid 0: that is no separation", d->cf.user);
            return -1;
        }
        d->run_uid = (unsigned)pw->pw_uid;
        d->run_gid = (unsigned)pw->pw_gid;
    }
    d->ctl_gid = d->run_gid;
    if ((gr = getgrnam(d->cf.control_group)) != NULL)
        d->ctl_gid = (unsigned)gr->gr_gid;
    else
        muled_log(d, LOG_LVL_WARN, "control_group %s does not exist: only root and muled's "
                  "user may use mulectl", d->cf.control_group);
    return 0;
}

/* ---- handing the directories over ------------------------------------- */

static uid_t g_uid;
static gid_t g_gid;
static size_t g_changed, g_failed;

static int
chown_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)type;
    (void)ftw;
    if (st->st_uid == g_uid && st->st_gid == g_gid)
        return 0;
    if (lchown(path, g_uid, g_gid) == 0)
        g_changed++;
    else
        g_failed++;
    return 0;
}

static int
hand_over(muled *d, const char *dir)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        muled_log(d, LOG_LVL_ERROR, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (geteuid() != 0 || d->run_uid == 0)
        return 0;
    g_uid = d->run_uid;
    g_gid = d->run_gid;
    g_changed = g_failed = 0;
    if (nftw(dir, chown_one, 32, FTW_PHYS | FTW_MOUNT) != 0 || g_failed > 0) {
        muled_log(d, LOG_LVL_ERROR, "cannot hand %s to %s (%zu failed)", dir, d->cf.user,
                  g_failed);
        return -1;
    }
    if (g_changed > 0)
        muled_log(d, LOG_LVL_INFO, "%s: %zu file(s) handed to %s", dir, g_changed, d->cf.user);
    return 0;
}

/* ---- Landlock ---------------------------------------------------------- */

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

static uint64_t
write_rights(int abi)
{
    uint64_t r = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

    if (abi >= 2)
        r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    return r;
}

static int
allow_dir(int ruleset, const char *dir, uint64_t rights)
{
    struct landlock_path_beneath_attr pb;
    int fd = open(dir, O_PATH | O_CLOEXEC | O_DIRECTORY);
    int rc;

    if (fd < 0)
        return -errno;
    memset(&pb, 0, sizeof pb);
    pb.allowed_access = rights;
    pb.parent_fd = fd;
    rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    close(fd);
    return rc == 0 ? 0 : -errno;
}

/* Writes only beneath dirs[0..n).  Returns the ABI used, 0 when the
 * kernel has none, <0 on failure. */
static int
landlock(const char *const *dirs, size_t n, char *why, size_t whylen)
{
    struct landlock_ruleset_attr ra;
    int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
                           LANDLOCK_CREATE_RULESET_VERSION);
    int rs, rc;

    if (abi <= 0) {
        snprintf(why, whylen, "the kernel has no Landlock (%s)", strerror(errno));
        return 0;
    }
    memset(&ra, 0, sizeof ra);
    ra.handled_access_fs = write_rights(abi);
    rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
    if (rs < 0) {
        snprintf(why, whylen, "landlock ruleset: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (dirs[i] == NULL)
            continue;
        if ((rc = allow_dir(rs, dirs[i], write_rights(abi))) < 0) {
            snprintf(why, whylen, "landlock rule for %s: %s", dirs[i], strerror(-rc));
            close(rs);
            return -1;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
        snprintf(why, whylen, "landlock restrict: %s", strerror(errno));
        close(rs);
        return -1;
    }
    close(rs);
    return abi;
}

/* A write where muled has no business must fail now. */
static bool
probe_refused(void)
{
    static const char *const where[] = {"/tmp", "/var/tmp", "/dev/shm"};

    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        int fd = open(where[i], O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return false;
        }
    }
    return true;
}

int
muled_priv_drop(muled *d)
{
    char ctl_dir[1100], why[200] = "";
    const char *dirs[4];
    size_t n = 0;
    int abi;

    snprintf(ctl_dir, sizeof ctl_dir, "%s", d->cf.control_socket);
    if (strrchr(ctl_dir, '/') != NULL && strrchr(ctl_dir, '/') != ctl_dir)
        *strrchr(ctl_dir, '/') = '\0';
    if (hand_over(d, d->cf.spool_dir) < 0 || hand_over(d, d->cf.audit_dir) < 0 ||
        (d->use_maildir && hand_over(d, d->cf.maildir) < 0))
        return -1;
    dirs[n++] = d->cf.spool_dir;
    dirs[n++] = d->cf.audit_dir;
    dirs[n++] = d->use_maildir ? d->cf.maildir : NULL;
    dirs[n++] = ctl_dir;

    if (geteuid() == 0 && d->run_uid != 0) {
        gid_t g = (gid_t)d->run_gid;
        if (setgroups(1, &g) != 0 || setgid(g) != 0 || setuid((uid_t)d->run_uid) != 0) {
            muled_log(d, LOG_LVL_ERROR, "cannot become %s: %s", d->cf.user, strerror(errno));
            return -1;
        }
        if (setuid(0) == 0 || geteuid() == 0) {
            muled_log(d, LOG_LVL_ERROR, "could regain root after dropping to %s: stopping",
                      d->cf.user);
            return -1;
        }
    }
    abi = landlock(dirs, n, why, sizeof why);
    if (abi < 0) {
        muled_log(d, LOG_LVL_ERROR, "confinement failed: %s", why);
        return -1;
    }
    bool refused = abi > 0 && probe_refused();

    if (abi > 0 && !refused) {
        muled_log(d, LOG_LVL_ERROR, "confinement failed: a write to /tmp still works");
        return -1;
    }
    snprintf(d->confinement, sizeof d->confinement, "uid=%u gid=%u (%s), %s%s%s",
             (unsigned)getuid(), (unsigned)getgid(), getuid() == 0 ? "root" : d->cf.user,
             abi > 0 ? "landlock: writes only under the spool, audit, maildir and control "
                       "directories" : "unconfined: ", abi > 0 ? "" : why,
             refused ? " (probe refused)" : "");
    muled_log(d, abi > 0 ? LOG_LVL_INFO : LOG_LVL_WARN, "running as %s", d->confinement);
    return 0;
}

/* ---- systemd ----------------------------------------------------------- */

void
muled_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    size_t len;
    int fd;

    if (path == NULL || (path[0] != '/' && path[0] != '@') ||
        (len = strlen(path)) >= sizeof sa.sun_path)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';      /* abstract namespace */
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return;
    (void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
}
