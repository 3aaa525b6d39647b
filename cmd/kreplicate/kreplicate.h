/* kreplicate.h -- shared state of kreplicate's commands */
#ifndef KREPLICATE_H
#define KREPLICATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_cli.h"
#include "kp_client.h"
#include "kp_proto.h"

struct kr {
	struct kp_cli_global	 g;		/* options before the command */
	bool			 table;		/* human table (a terminal) */
	struct kp_client	*c;		/* the cluster of -b */
};

/* Connect to -b or $KPIPE_BROKERS on first use; exits 69 if none answers. */
struct kp_client *kr_client(struct kr *);

/*
 * One request to the controller Metadata names (any broker while none
 * is known), at the highest version of [lo, hi] both sides speak.
 * not_controller(resp) says whether the answer is a NOT_CONTROLLER one:
 * then, as after a lost connection, metadata is refreshed and the
 * request sent again, a few times with a growing pause. Returns the
 * version used; exits 69 when no controller answers or the API is not
 * spoken, 75 when the controller kept moving.
 */
int16_t	kr_controller_call(struct kr *, int16_t api, int16_t lo, int16_t hi,
	    const struct kp_msg *reqm, const void *req,
	    const struct kp_msg *respm, void *resp, struct kp_arena *,
	    struct kp_buf *body, bool (*not_controller)(const void *));
/* Print one JSON line, or exit 74 (shared by the commands' output). */
void	kr_json_line(struct kp_buf *);
/* ",\"name\":[1,2,3]" */
void	kr_json_ids(struct kp_buf *, const char *, const int32_t *, int32_t);
/* "1,2,3", "-" when empty, into buf. */
const char *kr_ids(char *, size_t, const int32_t *, int32_t);

int	kr_status(struct kr *, int, char **);
int	kr_mirror(struct kr *, int, char **);
int	kr_elect(struct kr *, int, char **);
int	kr_reassign(struct kr *, int, char **);

#endif
