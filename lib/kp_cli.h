/* kp_cli.h -- what client programs share: exit codes, progress, options, tables */
#ifndef KP_CLI_H
#define KP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

/*
 * The sysexits(3) code for a failure with Kafka error kerr (0 when the
 * failure was no Kafka error: the broker could not be reached): 69 for an
 * unreachable broker, 75 for errors that may pass (timeouts, leader
 * changes), 65 for data the broker refused (too large, corrupt, unknown
 * topic), 69 otherwise.
 */
int	kp_cli_exit_for(int16_t kerr);

/*
 * Throughput on a terminal. kp_progress_tick returns true (and the line
 * in buf) at most every interval; the caller prints it to stderr. Never
 * active unless on is set (isatty(2) at start, usually).
 */
struct kp_progress {
	bool		on;
	int64_t		start_ms;
	int64_t		last_ms;
	uint64_t	records;
	uint64_t	bytes;
};

void	kp_progress_init(struct kp_progress *, bool on);
void	kp_progress_add(struct kp_progress *, uint64_t records, uint64_t bytes);
bool	kp_progress_tick(struct kp_progress *, char *buf, size_t len);
/* "1234 records, 5678 records/s, 1.23 MB/s" for the whole run. */
void	kp_progress_summary(const struct kp_progress *, char *, size_t);

/*
 * Parse a size like "16384", "64k", "1m" (powers of 1024) within
 * [min, max]; -1 when malformed or out of range.
 */
int64_t	kp_cli_size(const char *, int64_t min, int64_t max);

/*
 * The options the command-style tools (ktopic, kgroup) take before their
 * command: [-hV] [-b brokers] [--json] [--timeout-ms ms].
 */
struct kp_cli_global {
	const char	*brokers;	/* -b, NULL for $KPIPE_BROKERS */
	int		 timeout_ms;	/* --timeout-ms, 30000 by default */
	bool		 json;		/* --json */
};

/* getopt_long values of the long-only options, for the program's table. */
enum { KP_CLI_OPT_JSON = 256, KP_CLI_OPT_TIMEOUT };

enum kp_cli_global_how {
	KP_CLI_RUN,		/* argv[*cmd] is the command */
	KP_CLI_HELP,		/* -h */
	KP_CLI_VERSION,		/* -V */
	KP_CLI_USAGE,		/* show usage; no command or unknown option */
	KP_CLI_BADARG		/* why says which argument is wrong */
};

/*
 * Parse the options before the command with getopt_long and the
 * program's own table of them (each program lists its options, for its
 * man page and completions): -b, -h, -V, KP_CLI_OPT_JSON and
 * KP_CLI_OPT_TIMEOUT. "+": the command has its own options; getopt
 * itself reports unknown ones. On KP_CLI_BADARG, why holds the message.
 */
struct option;
enum kp_cli_global_how kp_cli_global_parse(int argc, char **argv,
	    const struct option *, struct kp_cli_global *, int *cmd,
	    char *why, size_t len);

/* A client for g's brokers named client_id; NULL with why on failure. */
struct kp_client;
struct kp_client *kp_cli_client_new(const struct kp_cli_global *g,
	    const char *client_id, char *why, size_t len);

/*
 * Rows of text columns for a terminal table. Rows are copied; running
 * out of memory is remembered and reported by kp_table_print.
 */
struct kp_table {
	char	**cells;
	size_t	  ncols, nrows, cap;
	bool	  header;	/* first row is a header */
	bool	  oom;
};

void	kp_table_init(struct kp_table *, size_t ncols);
/* One row of ncols strings (NULL prints as empty). */
void	kp_table_row(struct kp_table *, ...);
/*
 * Aligned columns two spaces apart, or tab-separated without the header
 * row; -1 (and nothing written) if a row could not be stored.
 */
int	kp_table_print(const struct kp_table *, FILE *, bool aligned);
void	kp_table_release(struct kp_table *);

#endif
