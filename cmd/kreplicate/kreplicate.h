/* kreplicate.h -- shared state of kreplicate's commands */
#ifndef KREPLICATE_H
#define KREPLICATE_H

#include <stdbool.h>

#include "kp_cli.h"
#include "kp_client.h"

struct kr {
	struct kp_cli_global	 g;		/* options before the command */
	bool			 table;		/* human table (a terminal) */
	struct kp_client	*c;		/* the cluster of -b */
};

/* Connect to -b or $KPIPE_BROKERS on first use; exits 69 if none answers. */
struct kp_client *kr_client(struct kr *);

int	kr_status(struct kr *, int, char **);
int	kr_mirror(struct kr *, int, char **);

#endif
