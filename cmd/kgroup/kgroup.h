/* kgroup.h -- shared state of kgroup's commands */
#ifndef KGROUP_H
#define KGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_cli.h"
#include "kp_client.h"

struct kg {
	struct kp_cli_global	 g;		/* options before the command */
	bool			 table;		/* human table (a terminal) */
	struct kp_client	*c;
	struct kp_arena		 arena;		/* per exchange */
	struct kp_buf		 body;
};

/* Connect on first use; exits 69 when no broker answers. */
struct kp_client *kg_client(struct kg *);
/*
 * The coordinator's connection for a group (FindCoordinator), exits with
 * a message when there is none.
 */
struct kp_conn	*kg_coordinator(struct kg *, const char *group);
/*
 * One exchange on k at the highest version in [vmin, vmax]; exits with a
 * message on failure. resp borrows from kg's buffers until the next one.
 */
struct kp_msg;
void	kg_call(struct kg *, struct kp_conn *, int16_t api, int16_t vmin,
	    int16_t vmax, const struct kp_msg *, const void *,
	    const struct kp_msg *, void *, int16_t *ver);

int	kg_list(struct kg *, int, char **);
int	kg_describe(struct kg *, int, char **);
int	kg_reset(struct kg *, int, char **);
int	kg_delete(struct kg *, int, char **);
int	kg_delete_offsets(struct kg *, int, char **);

/*
 * A table (kp_table) on stdout: aligned with its header (human), else
 * tab-separated without it; exits if it ran out of memory.
 */
void	kg_table_print(struct kp_table *, bool human);

/* JSON helpers appending to b. */
void	kg_jstr(struct kp_buf *, const char *key, const char *val, bool comma);
void	kg_jint(struct kp_buf *, const char *key, int64_t val, bool comma);
/* Write b and a newline to stdout, then empty it. */
void	kg_jflush(struct kp_buf *);

/* "topic" or "topic:0,2,5-7" (-t). parts NULL/n 0 means every partition. */
struct kg_scope {
	char		*topic;
	int32_t		*parts;
	size_t		 nparts;
};
void	kg_scope_parse(const char *, struct kg_scope *);
/* Parse one more -t into the growing array *v of *n. */
void	kg_scope_add(struct kg_scope **v, size_t *n, const char *);
bool	kg_scope_has(const struct kg_scope *, size_t, const char *, int32_t);

#endif
