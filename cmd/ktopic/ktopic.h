/* ktopic.h -- shared state of ktopic's subcommands */
#ifndef KTOPIC_H
#define KTOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_cli.h"
#include "kp_client.h"

struct kt {
	struct kp_cli_global	 g;		/* options before the command */
	bool			 table;		/* human table (a terminal) */
	struct kp_client	*c;
};

/* Connect on first use; exits 69 when no broker answers. */
struct kp_client *kt_client(struct kt *);

int	kt_list(struct kt *, int, char **);
int	kt_create(struct kt *, int, char **);
int	kt_describe(struct kt *, int, char **);
int	kt_alter(struct kt *, int, char **);
int	kt_delete(struct kt *, int, char **);
int	kt_offsets(struct kt *, int, char **);
int	kt_trim(struct kt *, int, char **);
int	kt_dump(struct kt *, int, char **);

/* Tables (kp_table) aligned on stdout; exits if one ran out of memory. */
void	kt_table_print(struct kp_table *);

#endif
