/*
 * bsmtp_cmd.c: SMTP/LMTP command line parser (bsmtp_cmd.h).
 */
#include "bsmtp/bsmtp_cmd.h"

#include <string.h>
#include <strings.h>

#include "pmul/util/num.h"

static const char *const names[] = {
    "?", "EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT",
    "RSET", "NOOP", "VRFY", "HELP", "QUIT", "STARTTLS",
};

const char *
bsmtp_cmd_name(enum bsmtp_verb v)
{
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

/* "<path>[ params]" after "FROM:" / "TO:": split in place. */
static bool
split_path(char *p, char **path, char **params)
{
    char *gt;

    while (*p == ' ')
        p++;
    if (*p != '<' || (gt = strchr(p, '>')) == NULL)
        return false;
    *gt = '\0';
    *path = p + 1;
    p = gt + 1;
    if (*p != '\0' && *p != ' ')
        return false;
    while (*p == ' ')
        p++;
    *params = *p != '\0' ? p : NULL;
    return true;
}

void
bsmtp_cmd_parse(char *line, bsmtp_cmd *c)
{
    char *arg = strchr(line, ' ');

    memset(c, 0, sizeof *c);
    c->syntax_ok = true;
    if (arg != NULL)
        *arg++ = '\0';
    else
        arg = line + strlen(line);
    c->arg = arg;
    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(line, names[i]) == 0)
            c->verb = (enum bsmtp_verb)i;
    switch (c->verb) {
    case BSMTP_CMD_MAIL:
        c->syntax_ok = strncasecmp(arg, "FROM:", 5) == 0 &&
                       split_path(arg + 5, &c->path, &c->params);
        break;
    case BSMTP_CMD_RCPT:
        c->syntax_ok = strncasecmp(arg, "TO:", 3) == 0 &&
                       split_path(arg + 3, &c->path, &c->params);
        break;
    case BSMTP_CMD_BDAT: {
        char *sp = strchr(arg, ' ');
        if (sp != NULL) {
            *sp = '\0';
            c->bdat_last = strcasecmp(sp + 1, "LAST") == 0;
            if (!c->bdat_last) {
                c->syntax_ok = false;
                break;
            }
        }
        c->syntax_ok = num_parse_u64(arg, 0, UINT64_MAX / 2, &c->bdat_size) == 0;
        break;
    }
    default:
        break;
    }
    if (!c->syntax_ok) {
        c->path = c->params = NULL;
        c->bdat_size = 0;
        c->bdat_last = false;
    }
}
