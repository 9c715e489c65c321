/*
 * bsmtp_cmd.h: the SMTP/LMTP command line parser of the server session,
 * on its own (no session state, no TLS, no I/O): a verb and what its
 * argument says.  bsmtp_server decides what a command means in its state;
 * this file only reads the line, so it can be fuzzed alone.
 */
#ifndef BSMTP_CMD_H
#define BSMTP_CMD_H

#include <stdbool.h>
#include <stdint.h>

enum bsmtp_verb {
    BSMTP_CMD_UNKNOWN = 0,
    BSMTP_CMD_EHLO, BSMTP_CMD_HELO, BSMTP_CMD_LHLO,
    BSMTP_CMD_MAIL, BSMTP_CMD_RCPT, BSMTP_CMD_DATA, BSMTP_CMD_BDAT,
    BSMTP_CMD_RSET, BSMTP_CMD_NOOP, BSMTP_CMD_VRFY, BSMTP_CMD_HELP,
    BSMTP_CMD_QUIT, BSMTP_CMD_STARTTLS,
};

typedef struct bsmtp_cmd {
    enum bsmtp_verb verb;
    char *arg;              /* after the verb and one space; "" when none */
    bool syntax_ok;         /* MAIL: FROM:<path>; RCPT: TO:<path>; BDAT:
                             * size [LAST]; other verbs: true */
    char *path;             /* MAIL/RCPT: between <> (split in place) */
    char *params;           /* MAIL/RCPT: after the path, or NULL */
    uint64_t bdat_size;     /* BDAT */
    bool bdat_last;
} bsmtp_cmd;

/*
 * Parse one command line (NUL-terminated, no line end) in place: NULs are
 * written after the verb and around the path, and every pointer in *c
 * points into line.  Never fails: an unknown verb is BSMTP_CMD_UNKNOWN, a
 * malformed argument syntax_ok = false.  Verbs are case-insensitive.
 */
void bsmtp_cmd_parse(char *line, bsmtp_cmd *c);

/* "EHLO", "MAIL", ...; "?" for BSMTP_CMD_UNKNOWN. */
const char *bsmtp_cmd_name(enum bsmtp_verb v);

#endif
