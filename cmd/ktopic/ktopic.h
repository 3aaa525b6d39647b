/* ktopic.h -- shared state of ktopic's subcommands */
#ifndef KTOPIC_H
#define KTOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_cli.h"
#include "kp_client.h"
#include "kp_wire.h"

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

/* dump's --offsets-decoder and --transaction-log-decoder */
enum kt_decoder {
	KT_DECODE_NONE,
	KT_DECODE_OFFSETS,	/* __consumer_offsets */
	KT_DECODE_TXN		/* __transaction_state */
};

/*
 * A record's key and value as JSON objects, the way kafka-dump-log's
 * decoders show them, appended to kb and vb (vb left empty for a
 * tombstone): 0, or -1 when it is no record of that topic.
 */
int	kt_decode(enum kt_decoder, const struct kp_bytes *key,
	    const struct kp_bytes *value, struct kp_buf *kb, struct kp_buf *vb);

/* Tables (kp_table) aligned on stdout; exits if one ran out of memory. */
void	kt_table_print(struct kp_table *);

#endif
