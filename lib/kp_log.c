/* kp_log.c -- one partition's commit log: segments, append, read, retention, recovery */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_bgio.h"
#include "kp_buf.h"
#include "kp_compact.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_segment.h"
#include "kp_store.h"
#include "kp_txnindex.h"

#define CHECKPOINT	"kpipe.checkpoint"

/*
 * The active segment's state after a clean close, so the next open need
 * not read the whole segment to learn it. Valid only while the segment
 * still has exactly that base and size; every other checkpoint write
 * leaves it out.
 */
struct clean_state {
	int64_t	 base;
	int64_t	 size;
	int64_t	 next;
	int64_t	 max_ts;
	int64_t	 max_ts_offset;
};

/* What a checkpoint file says; cs.base -1: no clean state. */
struct ckpt_vals {
	int64_t			 rp, ls, hw, co;
	struct clean_state	 cs;
};

struct kp_log {
	char			*dir;
	struct kp_logconf	 conf;
	bool			 rdonly;
	struct kp_segment	**segs;
	int			 nseg;
	int			 capseg;
	int64_t			 log_start;
	int64_t			 hw;
	int64_t			 recovery_point;
	int64_t			 cleaner_offset;	/* cleaned below this */
	int64_t			 next_clean_ms;		/* a pass due then, -1 */
	int64_t			 unflushed;		/* records */
	int64_t			 unflushed_since;	/* ms, -1 none */
	int64_t			 stable;		/* LSO, INT64_MAX none */
	int64_t			 marker_horizon;	/* markers may go below */
	bool			 ckpt_dirty;		/* state not on disk */
	bool			 ckpt_known;		/* ckpt_disk is on disk */
	struct ckpt_vals	 ckpt_disk;
	int64_t			 ckpt_due_ms;		/* tick may write then */
	struct kp_buf		 scratch;
};

static struct kp_segment *
active(const struct kp_log *l)
{
	return l->segs[l->nseg - 1];
}

static struct kp_segment *
seg_open(struct kp_log *l, int64_t base, bool create, int64_t now)
{
	return kp_segment_open(l->dir, base, l->conf.index_interval_bytes,
	    l->conf.segment_index_bytes, create, l->rdonly, now);
}

static int	log_sync(struct kp_log *, bool);

static int
seg_push(struct kp_log *l, struct kp_segment *s)
{
	if (l->nseg == l->capseg) {
		int cap = l->capseg ? l->capseg * 2 : 8;
		struct kp_segment **n = reallocarray(l->segs, (size_t)cap,
		    sizeof(*n));

		if (n == NULL)
			return -1;
		l->segs = n;
		l->capseg = cap;
	}
	l->segs[l->nseg++] = s;
	return 0;
}

/* Remove segs[i] from the array (the segment itself is the caller's). */
static void
seg_remove(struct kp_log *l, int i)
{
	memmove(l->segs + i, l->segs + i + 1,
	    (size_t)(l->nseg - i - 1) * sizeof(*l->segs));
	l->nseg--;
}

/* --- checkpoint --- */

static bool
ckpt_same(const struct ckpt_vals *a, const struct ckpt_vals *b)
{
	return a->rp == b->rp && a->ls == b->ls && a->hw == b->hw &&
	    a->co == b->co && a->cs.base == b->cs.base &&
	    a->cs.size == b->cs.size && a->cs.next == b->cs.next &&
	    a->cs.max_ts == b->cs.max_ts &&
	    a->cs.max_ts_offset == b->cs.max_ts_offset;
}

/*
 * Write the checkpoint. now: before returning, for what follows relies
 * on it being on disk. Otherwise when convenient (kp_bgio): after a roll
 * and on ticks nothing waits for it, and a lost one only means a longer
 * scan at the next start; in the event loop, the fsyncs and renames of
 * 16 partitions' checkpoints once a second stalled producers ~10 ms.
 */
static int
checkpoint_put(struct kp_log *l, bool clean, bool now)
{
	struct ckpt_vals v = { l->recovery_point, l->log_start, l->hw,
	    l->cleaner_offset, { -1, -1, -1, -1, -1 } };
	char path[PATH_MAX], buf[512];
	int n, rc;

	if (l->rdonly)
		return 0;
	if (clean) {
		const struct kp_segment *a = active(l);

		v.cs = (struct clean_state){ a->base, a->size, a->next_offset,
		    a->max_ts, a->max_ts_offset };
	}
	/*
	 * A clean stop rewrote every partition's file, two fsyncs and a
	 * rename each, even those that still said exactly this: 1,000 idle
	 * partitions took 1.5 s to stop.
	 */
	if (l->ckpt_known && ckpt_same(&v, &l->ckpt_disk)) {
		l->ckpt_dirty = false;
		return 0;
	}
	n = snprintf(buf, sizeof(buf),
	    "version=1\nrecovery_point=%" PRId64 "\nlog_start_offset=%"
	    PRId64 "\nhigh_watermark=%" PRId64 "\ncleaner_offset=%" PRId64
	    "\n", v.rp, v.ls, v.hw, v.co);
	if (clean)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "clean_base=%" PRId64 "\nclean_size=%" PRId64
		    "\nclean_next=%" PRId64 "\nclean_max_ts=%" PRId64
		    "\nclean_max_ts_offset=%" PRId64 "\n", v.cs.base,
		    v.cs.size, v.cs.next, v.cs.max_ts, v.cs.max_ts_offset);
	snprintf(path, sizeof(path), "%s/%s", l->dir, CHECKPOINT);
	/* until a queued write lands, what the file says is not known */
	l->ckpt_known = false;
	if (now) {
		/* an older queued write must not land after this one */
		kp_bgio_drain();
		rc = kp_write_file_atomic(path, buf, (size_t)n);
		if (rc == 0) {
			l->ckpt_disk = v;
			l->ckpt_known = true;
		}
	} else
		rc = kp_bgio_write_file(path, buf, (size_t)n);
	if (rc < 0)
		return -1;
	l->ckpt_dirty = false;
	return 0;
}

static int
checkpoint_write(struct kp_log *l)
{
	return checkpoint_put(l, false, true);
}

static int
checkpoint_queue(struct kp_log *l)
{
	return checkpoint_put(l, false, false);
}

/* Missing or unreadable fields stay as the caller initialised them. */
static void
checkpoint_read(struct kp_log *l, int64_t *rp, int64_t *ls, int64_t *hw,
    int64_t *co, struct clean_state *cs)
{
	char path[PATH_MAX], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", l->dir, CHECKPOINT);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		long long v;

		if (sscanf(line, "recovery_point=%lld", &v) == 1 && v >= 0)
			*rp = v;
		else if (sscanf(line, "log_start_offset=%lld", &v) == 1 &&
		    v >= 0)
			*ls = v;
		else if (sscanf(line, "high_watermark=%lld", &v) == 1 &&
		    v >= 0)
			*hw = v;
		else if (sscanf(line, "cleaner_offset=%lld", &v) == 1 &&
		    v >= 0)
			*co = v;
		else if (sscanf(line, "clean_base=%lld", &v) == 1)
			cs->base = v;
		else if (sscanf(line, "clean_size=%lld", &v) == 1)
			cs->size = v;
		else if (sscanf(line, "clean_next=%lld", &v) == 1)
			cs->next = v;
		else if (sscanf(line, "clean_max_ts=%lld", &v) == 1)
			cs->max_ts = v;
		else if (sscanf(line, "clean_max_ts_offset=%lld", &v) == 1)
			cs->max_ts_offset = v;
	}
	fclose(f);
}

/* --- opening and recovery --- */

/* "<20 digits><sfx>" -> base, or -1. */
static int64_t
parse_name(const char *name, const char *sfx)
{
	size_t n = strlen(name), k = strlen(sfx);
	int64_t v = 0;

	if (n != 20 + k || strcmp(name + 20, sfx) != 0)
		return -1;
	for (int i = 0; i < 20; i++) {
		if (!isdigit((unsigned char)name[i]))
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Finish the cleaner's swaps and remove leftovers: a "<base>.log.swap" is
 * complete (it is renamed last), so its index .swap files and itself go
 * into place; any other .swap, .cleaned, "~" temp file (an unfinished
 * kp_write_file_atomic), or index without its .log is debris of an
 * interrupted operation.
 */
static int
tidy_dir(struct kp_log *l, struct kp_log_recovery *rec)
{
	static const char *idx[] = { ".index", ".timeindex",
	    KP_TXNINDEX_SUFFIX };
	char a[PATH_MAX], b[PATH_MAX];
	struct dirent *de;
	DIR *d;
	bool changed = false;

	if ((d = opendir(l->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		int64_t base = parse_name(de->d_name, ".log.swap");

		if (base < 0)
			continue;
		for (int i = 0; i < 3; i++) {
			char sfx[32];

			snprintf(sfx, sizeof(sfx), "%s.swap", idx[i]);
			kp_segment_path(a, sizeof(a), l->dir, base, sfx);
			kp_segment_path(b, sizeof(b), l->dir, base, idx[i]);
			if (rename(a, b) < 0 && errno != ENOENT)
				goto fail;
		}
		kp_segment_path(a, sizeof(a), l->dir, base, ".log.swap");
		kp_segment_path(b, sizeof(b), l->dir, base, ".log");
		if (rename(a, b) < 0)
			goto fail;
		rec->swaps_completed++;
		changed = true;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name, *dot = strchr(n, '.');
		int64_t base = -1;
		bool junk = false;

		if (dot == NULL || n[0] == '.')
			continue;
		if (strstr(n, ".swap") != NULL ||
		    strstr(n, ".cleaned") != NULL ||
		    n[strlen(n) - 1] == '~')
			junk = true;
		else if ((base = parse_name(n, ".index")) >= 0 ||
		    (base = parse_name(n, ".timeindex")) >= 0 ||
		    (base = parse_name(n, KP_TXNINDEX_SUFFIX)) >= 0) {
			struct stat st;

			kp_segment_path(a, sizeof(a), l->dir, base, ".log");
			junk = stat(a, &st) < 0 && errno == ENOENT;
		}
		if (!junk)
			continue;
		snprintf(a, sizeof(a), "%s/%s", l->dir, n);
		if (unlink(a) < 0 && errno != ENOENT)
			goto fail;
		rec->leftovers_removed++;
		changed = true;
	}
	closedir(d);
	return changed ? kp_fsync_dir(l->dir) : 0;
fail:
	closedir(d);
	return -1;
}

static int
list_bases(struct kp_log *l, int64_t **out, size_t *n)
{
	int64_t *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(l->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		int64_t base = parse_name(de->d_name, ".log");

		if (base < 0)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		v[cnt++] = base;
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), cmp_i64);
	*out = v;
	*n = cnt;
	return 0;
}

/* Delete segs[from..] (recovery found them after a cut). */
static int
drop_tail(struct kp_log *l, int from, struct kp_log_recovery *rec)
{
	while (l->nseg > from) {
		struct kp_segment *s = l->segs[l->nseg - 1];

		rec->truncated_bytes += s->size;
		rec->segments_dropped++;
		l->nseg--;
		if (l->rdonly)
			kp_segment_close(s);
		else if (kp_segment_delete(s) < 0)
			return -1;
	}
	return l->rdonly ? 0 : kp_fsync_dir(l->dir);
}

static int
recover(struct kp_log *l, int64_t now, struct kp_log_recovery *rec)
{
	int64_t *bases = NULL, rp = 0, ls = 0, hw = -1, co = 0;
	struct clean_state cs = { -1, -1, -1, -1, -1 };
	size_t nb = 0;
	bool loaded_clean = false;

	if (!l->rdonly && tidy_dir(l, rec) < 0)
		return -1;
	checkpoint_read(l, &rp, &ls, &hw, &co, &cs);
	if (list_bases(l, &bases, &nb) < 0)
		return -1;
	rec->recovered_from = rp;
	for (size_t i = 0; i < nb; i++) {
		struct kp_segment *s = seg_open(l, bases[i], false, now);
		struct kp_segment_scan sc;
		bool trusted;

		if (s == NULL || seg_push(l, s) < 0) {
			kp_segment_close(s);
			goto fail;
		}
		/* everything below the recovery point was flushed: trust it */
		trusted = i + 1 < nb && bases[i + 1] <= rp;
		if (trusted) {
			if (kp_segment_load_closed(s, bases[i + 1]) < 0)
				goto fail;
			if (s->index_rebuilt)
				rec->indexes_rebuilt++;
			continue;
		}
		if (s->index_rebuilt)
			rec->indexes_rebuilt++;
		if (i + 1 == nb && cs.base == s->base && cs.next == rp &&
		    kp_segment_load_clean(s, cs.size, cs.next, cs.max_ts,
		    cs.max_ts_offset) == 1) {
			loaded_clean = true;
			break;	/* closed cleanly: no need to read it all */
		}
		if (kp_segment_scan(s, rp, &sc) < 0)
			goto fail;
		/* after a full scan the indexes are fresh either way */
		rec->batches_checked += sc.checked;
		if (l->nseg > 1 && s->base < l->segs[l->nseg - 2]->next_offset)
			sc.torn = true;	/* overlaps its predecessor */
		if (sc.torn) {
			rec->truncated_bytes += sc.truncated;
			rec->truncated_at = s->next_offset;
			if (drop_tail(l, (int)l->nseg, rec) < 0)
				goto fail;
			/* later segments would leave a hole: they go too */
			for (size_t j = i + 1; j < nb; j++) {
				char p[PATH_MAX];
				struct stat st;

				kp_segment_path(p, sizeof(p), l->dir, bases[j],
				    ".log");
				if (stat(p, &st) == 0)
					rec->truncated_bytes += st.st_size;
				rec->segments_dropped++;
				if (!l->rdonly) {
					static const char *sx[] = { ".log",
					    ".index", ".timeindex",
					    KP_TXNINDEX_SUFFIX };

					for (int k = 0; k < 4; k++) {
						kp_segment_path(p, sizeof(p),
						    l->dir, bases[j], sx[k]);
						if (unlink(p) < 0 &&
						    errno != ENOENT)
							goto fail;
					}
				}
			}
			if (!l->rdonly && i + 1 < nb &&
			    kp_fsync_dir(l->dir) < 0)
				goto fail;
			if (s->size == 0 && l->nseg > 1) {
				/* an empty segment in the middle: drop it */
				l->nseg--;
				rec->segments_dropped++;
				if (l->rdonly)
					kp_segment_close(s);
				else if (kp_segment_delete(s) < 0)
					goto fail;
			}
			break;
		}
	}
	free(bases);
	bases = NULL;
	if (l->nseg == 0) {
		struct kp_segment *s;

		if (l->rdonly) {
			errno = ENOENT;
			goto fail;
		}
		if ((s = seg_open(l, ls, true, now)) == NULL)
			goto fail;
		if (seg_push(l, s) < 0) {
			kp_segment_close(s);
			goto fail;
		}
		/*
		 * No kp_fsync_dir here: the checkpoint write at the end
		 * syncs this directory after its rename, which makes the
		 * new segment's names durable too.  A crash before that
		 * finds no segment (or one without its indexes) and
		 * makes them again.
		 */
	}
	rec->segments = l->nseg;
	l->log_start = ls > l->segs[0]->base ? ls : l->segs[0]->base;
	if (l->log_start > active(l)->next_offset)
		l->log_start = active(l)->next_offset;
	l->hw = hw < 0 || hw > active(l)->next_offset ?
	    active(l)->next_offset : hw;
	if (l->hw < l->log_start)
		l->hw = l->log_start;
	l->cleaner_offset = co;
	l->recovery_point = rp < active(l)->next_offset ? rp :
	    active(l)->next_offset;
	rec->end_offset = active(l)->next_offset;
	rec->checkpoint_hw = hw;
	/* unflushed records the page cache never wrote back */
	rec->short_of_checkpoint = hw > rec->end_offset;
	rec->clean = rec->truncated_bytes == 0 && rec->segments_dropped == 0 &&
	    rec->indexes_rebuilt == 0 && rec->swaps_completed == 0 &&
	    rec->leftovers_removed == 0 && !rec->short_of_checkpoint;
	if (l->rdonly)
		return 0;
	/*
	 * A clean close left a checkpoint that already says all this, and
	 * rewriting it costs two fsyncs per partition at startup.  Its
	 * clean_* fields may stay: they only vouch for the active segment
	 * while it has exactly that size with no index entry past it, and
	 * everything that could rewrite bytes below that size (truncate,
	 * roll, delete) writes a checkpoint without them first or after.
	 */
	if (loaded_clean && rec->clean && l->recovery_point == rp &&
	    l->log_start == ls && l->hw == hw && l->cleaner_offset == co) {
		l->ckpt_disk = (struct ckpt_vals){ rp, ls, hw, co, cs };
		l->ckpt_known = true;
		return kp_log_flush(l);
	}
	/*
	 * What recovery kept is now known good; make it durable before
	 * moving the recovery point past it.
	 */
	return kp_log_flush(l) < 0 ? -1 : checkpoint_write(l);
fail:
	free(bases);
	return -1;
}

struct kp_log *
kp_log_open(const char *dir, const struct kp_logconf *conf, int flags,
    int64_t now_ms, struct kp_log_recovery *recp)
{
	struct kp_log_recovery rec;
	struct kp_log *l;
	int e;

	memset(&rec, 0, sizeof(rec));
	rec.truncated_at = -1;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	kp_buf_init(&l->scratch);
	l->conf = *conf;
	l->rdonly = (flags & KP_LOG_RDONLY) != 0;
	l->unflushed_since = -1;
	l->next_clean_ms = -1;
	l->stable = INT64_MAX;
	if ((l->dir = strdup(dir)) == NULL)
		goto fail;
	if ((flags & KP_LOG_CREATE) && !l->rdonly) {
		if (mkdir(dir, 0755) == 0) {
			char *parent = strdup(dir), *sl;

			if (parent == NULL)
				goto fail;
			sl = strrchr(parent, '/');
			if (sl != NULL && sl != parent)
				*sl = '\0';
			else
				strcpy(parent, sl == parent ? "/" : ".");
			e = kp_fsync_dir(parent);
			free(parent);
			if (e < 0)
				goto fail;
		} else if (errno != EEXIST)
			goto fail;
	}
	if (recover(l, now_ms, &rec) < 0)
		goto fail;
	if (recp != NULL)
		*recp = rec;
	return l;
fail:
	e = errno;
	l->rdonly = true;	/* close without flushing a half-open log */
	kp_log_close(l);
	errno = e;
	return NULL;
}

void
kp_log_close(struct kp_log *l)
{
	if (l == NULL)
		return;
	/* a clean close vouches for the indexes: sync them too */
	if (!l->rdonly && l->nseg > 0 && log_sync(l, true) == 0)
		(void)checkpoint_put(l, true, true);
	for (int i = 0; i < l->nseg; i++)
		kp_segment_close(l->segs[i]);
	free(l->segs);
	kp_buf_release(&l->scratch);
	free(l->dir);
	free(l);
}

void
kp_log_set_conf(struct kp_log *l, const struct kp_logconf *c)
{
	l->conf = *c;
	for (int i = 0; i < l->nseg; i++) {
		l->segs[i]->index_interval = c->index_interval_bytes;
		/* a smaller index limit applies to the next segment */
	}
}

const struct kp_logconf *
kp_log_conf(const struct kp_log *l)
{
	return &l->conf;
}

const char *
kp_log_dir(const struct kp_log *l)
{
	return l->dir;
}

int64_t
kp_log_start_offset(const struct kp_log *l)
{
	return l->log_start;
}

int64_t
kp_log_end_offset(const struct kp_log *l)
{
	return active(l)->next_offset;
}

int64_t
kp_log_high_watermark(const struct kp_log *l)
{
	return l->hw;
}

void
kp_log_set_high_watermark(struct kp_log *l, int64_t hw)
{
	if (hw > kp_log_end_offset(l))
		hw = kp_log_end_offset(l);
	if (hw < l->log_start)
		hw = l->log_start;
	if (hw != l->hw)
		l->ckpt_dirty = true;
	l->hw = hw;
}

int64_t
kp_log_recovery_point(const struct kp_log *l)
{
	return l->recovery_point;
}

int64_t
kp_log_size(const struct kp_log *l)
{
	int64_t n = 0;

	for (int i = 0; i < l->nseg; i++)
		n += l->segs[i]->size;
	return n;
}

int
kp_log_segment_count(const struct kp_log *l)
{
	return l->nseg;
}

int64_t
kp_log_active_base(const struct kp_log *l)
{
	return active(l)->base;
}

/* --- flush and roll --- */

/*
 * full: the active segment's index files too. Otherwise they are left
 * to the roll or the close: recovery never trusts the active segment's
 * indexes after a crash (it rescans the segment and rebuilds them), so
 * syncing them per flush would only double the fdatasyncs of
 * flush.messages=1.
 */
static int
log_sync(struct kp_log *l, bool full)
{
	if (l->rdonly)
		return 0;
	for (int i = 0; i < l->nseg; i++)
		if ((full || i + 1 < l->nseg ? kp_segment_sync(l->segs[i]) :
		    kp_segment_sync_data(l->segs[i])) < 0)
			return -1;
	if (l->recovery_point != kp_log_end_offset(l))
		l->ckpt_dirty = true;
	l->recovery_point = kp_log_end_offset(l);
	l->unflushed = 0;
	l->unflushed_since = -1;
	return 0;
}

int
kp_log_active_fd(const struct kp_log *l)
{
	return l->rdonly ? -1 : active(l)->fd;
}

int
kp_log_flush(struct kp_log *l)
{
	return log_sync(l, false);
}

int
kp_log_roll(struct kp_log *l, int64_t now_ms)
{
	struct kp_segment *old = active(l), *s;
	int64_t base = old->next_offset;

	if (l->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (old->size == 0)
		return 0;
	/*
	 * Kafka flushes a segment once it stops being active, so the
	 * recovery point can pass it and a restart only scans the new one.
	 */
	if (kp_segment_seal(old) < 0 || kp_segment_sync(old) < 0)
		return -1;
	if ((s = seg_open(l, base, true, now_ms)) == NULL)
		return -1;
	/* a stale file of that name (never ours to keep) starts empty */
	if (ftruncate(s->fd, 0) < 0 || kp_segment_scan(s, 0, NULL) < 0) {
		kp_segment_close(s);
		return -1;
	}
	if (kp_fsync_dir(l->dir) < 0 || seg_push(l, s) < 0) {
		(void)kp_segment_delete(s);
		return -1;
	}
	/* every segment before the new one is synced by its own roll */
	l->recovery_point = base;
	l->unflushed = 0;
	l->unflushed_since = -1;
	(void)checkpoint_queue(l);
	return 0;
}

static bool
roll_due(const struct kp_log *l, const struct kp_segment *s, size_t len,
    int64_t last_offset, int64_t now)
{
	if (s->size == 0)
		return false;
	return s->size + (int64_t)len > l->conf.segment_bytes ||
	    kp_index_full(&s->oi) || kp_index_full(&s->ti) ||
	    now - s->created_ms >= l->conf.segment_ms ||
	    last_offset - s->base > INT32_MAX ||
	    s->size + (int64_t)len > INT32_MAX;
}

/* --- append --- */

/*
 * Walk the batches of a produce request and check each. Returns a Kafka
 * error or KP_NONE, with the record count in *records.
 */
static int
check_batches(struct kp_log *l, const uint8_t *buf, size_t len, bool full,
    int64_t *records, int64_t *span)
{
	size_t off = 0;

	*records = 0;
	*span = 0;
	if (len == 0)
		return KP_CORRUPT_MESSAGE;
	while (off < len) {
		struct kp_batch_header h;
		ssize_t n = kp_batch_header_decode(buf + off, len - off, &h);
		int e;

		if (n <= 0 || (size_t)n > len - off)
			return KP_CORRUPT_MESSAGE;
		if (n > l->conf.max_message_bytes)
			return KP_MESSAGE_TOO_LARGE;
		if (full) {
			/* inflating beyond 64 MiB is an attack, not a batch */
			e = kp_batch_validate(buf + off, (size_t)n, 64u << 20);
			if (e != 0)
				return e;
		} else if (!kp_batch_crc_ok(buf + off, (size_t)n) ||
		    h.last_offset_delta < 0)
			return KP_CORRUPT_MESSAGE;
		if ((l->conf.cleanup_policy & KP_CLEANUP_COMPACT) && full &&
		    !(h.attributes & KP_BATCH_ATTR_CONTROL) &&
		    kp_batch_codec(&h) <= KP_CODEC_GZIP) {
			/* Kafka refuses keyless records on compacted topics */
			struct kp_batch_iter it;
			struct kp_record r;
			int rc;

			if ((e = kp_batch_iter_init(&it, buf + off, (size_t)n,
			    64u << 20)) != 0) {
				kp_batch_iter_release(&it);
				return e;
			}
			while ((rc = kp_batch_iter_next(&it, &r)) == 1)
				if (r.key.len < 0)
					break;
			kp_batch_iter_release(&it);
			if (rc != 0)
				return KP_INVALID_RECORD;
		}
		*records += h.records_count;
		*span += (int64_t)h.last_offset_delta + 1;
		off += (size_t)n;
	}
	return KP_NONE;
}

/* Write checked batches, roll first if due, flush by flush.messages. */
static int
write_batches(struct kp_log *l, const uint8_t *buf, size_t len,
    int64_t records, int64_t last, int64_t now)
{
	struct kp_segment *s = active(l);
	int64_t old_end = s->next_offset;

	if (roll_due(l, s, len, last, now)) {
		if (kp_log_roll(l, now) < 0)
			return KP_KAFKA_STORAGE_ERROR;
		s = active(l);
	}
	if (s->size == 0)
		s->created_ms = now;	/* segment.ms counts from here */
	if (kp_segment_append(s, buf, len) < 0)
		return KP_KAFKA_STORAGE_ERROR;
	/*
	 * Once the active segment drops pages of its own, the rolled one
	 * before it has had its share of the page cache: let it go too, or
	 * every rolled segment would keep its tail cached for good.
	 */
	if (l->nseg > 1 && s->drop_mark > 0)
		kp_segment_uncache(l->segs[l->nseg - 2]);
	l->unflushed += records;
	if (l->unflushed_since < 0)
		l->unflushed_since = now;
	if (l->unflushed >= l->conf.flush_messages && kp_log_flush(l) < 0) {
		int e = errno;

		/* not durable as promised: take it back */
		(void)kp_segment_truncate_offset(s, old_end);
		errno = e;
		return KP_KAFKA_STORAGE_ERROR;
	}
	return KP_NONE;
}

int
kp_log_append(struct kp_log *l, uint8_t *buf, size_t len, int32_t epoch,
    int64_t now_ms, struct kp_log_append_info *info)
{
	int64_t records, span, off, base = kp_log_end_offset(l);
	size_t pos = 0;
	int e;

	if (l->rdonly) {
		errno = EROFS;
		return KP_KAFKA_STORAGE_ERROR;
	}
	if ((e = check_batches(l, buf, len, true, &records, &span)) != 0)
		return e;
	/* Only now touch the bytes: offsets and epoch lie outside the CRC. */
	for (off = base; pos < len;) {
		struct kp_batch_header h;
		ssize_t n = kp_batch_header_decode(buf + pos, len - pos, &h);

		kp_batch_set_base_offset(buf + pos, off);
		kp_batch_set_leader_epoch(buf + pos, epoch);
		if (l->conf.timestamp_type == KP_TS_LOG_APPEND_TIME)
			kp_batch_set_log_append_time(buf + pos, (size_t)n,
			    now_ms);
		off += (int64_t)h.last_offset_delta + 1;
		pos += (size_t)n;
	}
	if ((e = write_batches(l, buf, len, records, off - 1, now_ms)) != 0)
		return e;
	if (info != NULL) {
		info->base_offset = base;
		info->last_offset = off - 1;
		info->log_append_time =
		    l->conf.timestamp_type == KP_TS_LOG_APPEND_TIME ?
		    now_ms : -1;
		info->log_start_offset = l->log_start;
		info->records = (int)records;
	}
	return KP_NONE;
}

int
kp_log_append_raw(struct kp_log *l, const uint8_t *buf, size_t len,
    int64_t now_ms, struct kp_log_append_info *info)
{
	int64_t records, span, next = kp_log_end_offset(l), first = -1;
	size_t pos = 0;
	int e;

	if (l->rdonly) {
		errno = EROFS;
		return KP_KAFKA_STORAGE_ERROR;
	}
	if ((e = check_batches(l, buf, len, false, &records, &span)) != 0)
		return e;
	while (pos < len) {
		struct kp_batch_header h;
		ssize_t n = kp_batch_header_decode(buf + pos, len - pos, &h);

		if (h.base_offset < next)
			return KP_OFFSET_OUT_OF_RANGE;
		if (first < 0)
			first = h.base_offset;
		next = kp_batch_last_offset(&h) + 1;
		pos += (size_t)n;
	}
	if (active(l)->size == 0 && first > active(l)->base &&
	    l->nseg == 1 && first > kp_log_end_offset(l)) {
		/* a follower starting mid-log: begin the log there */
		if (kp_log_truncate(l, first) < 0)
			return KP_KAFKA_STORAGE_ERROR;
	}
	if ((e = write_batches(l, buf, len, records, next - 1, now_ms)) != 0)
		return e;
	if (info != NULL) {
		info->base_offset = first;
		info->last_offset = next - 1;
		info->log_append_time = -1;
		info->log_start_offset = l->log_start;
		info->records = (int)records;
	}
	return KP_NONE;
}

/* --- read --- */

/* The last segment whose base is <= offset (0 if none). */
static int
seg_for(const struct kp_log *l, int64_t offset)
{
	int lo = 0, hi = l->nseg;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (l->segs[mid]->base <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? lo - 1 : 0;
}

/*
 * Move end forward by whole batches using the offset index, staying
 * within limit: the entry's batch starts at val and ends with offset key.
 */
static int
index_jump(struct kp_segment *s, int64_t *end, int64_t *last, int64_t limit)
{
	size_t lo = 0, hi = s->oi.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->oi.val[mid] <= limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int tries = 0; lo > 0 && tries < 2; tries++, lo--) {
		int64_t p = s->oi.val[lo - 1], b, l, n;

		if (p < *end)
			break;
		if ((n = kp_segment_header_at(s, p, &b, &l, NULL)) < 0)
			return -1;
		if (n > 0 && p + n <= limit) {
			*end = p + n;
			*last = l;
			break;
		}
	}
	return 0;
}

int
kp_log_read(struct kp_log *l, int64_t offset, size_t max_bytes,
    int64_t max_offset, struct kp_log_slice *out)
{
	int64_t leo = kp_log_end_offset(l);

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->first_offset = out->next_offset = offset;
	if (offset < l->log_start || offset > leo)
		return KP_OFFSET_OUT_OF_RANGE;
	if (max_offset > leo)
		max_offset = leo;
	for (int i = seg_for(l, offset); i < l->nseg; i++) {
		struct kp_segment *s = l->segs[i];
		int64_t base, last, n, pos, end, total;

		if (offset >= max_offset)
			return KP_NONE;
		pos = kp_segment_find(s, offset, &base, &last, &n);
		if (pos < 0) {
			if (errno != 0)
				return KP_KAFKA_STORAGE_ERROR;
			if (i + 1 < l->nseg && l->segs[i + 1]->base > offset)
				offset = l->segs[i + 1]->base;
			continue;
		}
		if (last >= max_offset)
			return KP_NONE;
		end = pos + n;
		/*
		 * Whole batches up to max_bytes: when the bound is the end of
		 * the segment the offset index lets us skip most headers.
		 */
		if (max_offset >= s->next_offset) {
			int64_t limit = pos + (int64_t)max_bytes;

			if (limit >= s->size) {
				end = s->size;
				last = s->next_offset - 1;
			} else if (index_jump(s, &end, &last, limit) < 0)
				return KP_KAFKA_STORAGE_ERROR;
		}
		for (total = end - pos; end < s->size;) {
			int64_t b2, l2;

			n = kp_segment_header_at(s, end, &b2, &l2, NULL);
			if (n < 0)
				return KP_KAFKA_STORAGE_ERROR;
			if (n == 0 || l2 >= max_offset ||
			    total + n > (int64_t)max_bytes)
				break;
			total += n;
			end += n;
			last = l2;
		}
		kp_segment_hint(s, last + 1, end);
		out->fd = s->fd;
		out->pos = (off_t)pos;
		out->len = (size_t)(end - pos);
		out->first_offset = base;
		out->next_offset = last + 1;
		return KP_NONE;
	}
	return KP_NONE;
}

int
kp_log_slice_load(const struct kp_log_slice *sl, struct kp_buf *out)
{
	uint8_t *p;
	size_t got = 0;

	if (sl->len == 0)
		return 0;
	if ((p = kp_buf_extend(out, sl->len)) == NULL)
		return -1;
	while (got < sl->len) {
		ssize_t r = pread(sl->fd, p + got, sl->len - got,
		    sl->pos + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			out->len -= sl->len;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int
kp_log_replay(struct kp_log *log, kp_log_batch_fn *fn, void *arg,
    size_t *nbatch)
{
	int64_t off = kp_log_start_offset(log), end = kp_log_end_offset(log);
	struct kp_log_slice s;
	struct kp_buf buf;
	int rc = 0;

	kp_buf_init(&buf);
	while (off < end) {
		size_t at = 0, used;

		if (kp_log_read(log, off, 1 << 20, end, &s) != KP_NONE ||
		    s.len == 0)
			break;
		kp_buf_reset(&buf);
		if (kp_log_slice_load(&s, &buf) == -1) {
			rc = -1;
			break;
		}
		while (at < buf.len &&
		    fn(arg, buf.data + at, buf.len - at, &used) == 0) {
			at += used;
			(*nbatch)++;
		}
		if (s.next_offset <= off)
			break;
		off = s.next_offset;
	}
	kp_buf_release(&buf);
	return rc;
}

/* --- aborted transactions --- */

int
kp_log_txn_add(struct kp_log *l, const struct kp_txn_entry *e)
{
	if (l->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (e->last_offset < l->segs[0]->base ||
	    e->last_offset >= kp_log_end_offset(l)) {
		errno = ERANGE;
		return -1;
	}
	return kp_txnindex_add(&l->segs[seg_for(l, e->last_offset)]->xi, e);
}

bool
kp_log_txn_has(const struct kp_log *l, int64_t last_offset)
{
	return kp_txnindex_has(&l->segs[seg_for(l, last_offset)]->xi,
	    last_offset);
}

/*
 * An entry lives in the segment of its marker, at or after its first
 * offset: the segments before the one holding from have only markers
 * below from. As Kafka's collectAbortedTxns, the walk ends at an entry
 * whose LSO is at or past upto: every later transaction began after it.
 */
size_t
kp_log_aborted_txns(const struct kp_log *l, int64_t from, int64_t upto,
    kp_log_txn_fn *fn, void *arg)
{
	size_t n = 0;

	for (int i = seg_for(l, from); i < l->nseg; i++) {
		const struct kp_txnindex *x = &l->segs[i]->xi;

		for (size_t k = 0; k < x->n; k++) {
			if (x->e[k].last_offset >= from &&
			    x->e[k].first_offset < upto) {
				if (fn != NULL)
					fn(arg, &x->e[k]);
				n++;
			}
			if (x->e[k].lso >= upto)
				return n;
		}
	}
	return n;
}

/* --- timestamps --- */

/* Load the batch at pos into the scratch buffer; its size, or -1. */
static int64_t
load_batch(struct kp_log *l, struct kp_segment *s, int64_t pos, int64_t n)
{
	struct kp_log_slice sl = { .fd = s->fd, .pos = (off_t)pos,
	    .len = (size_t)n };

	kp_buf_reset(&l->scratch);
	return kp_log_slice_load(&sl, &l->scratch) < 0 ? -1 : n;
}

int
kp_log_offset_for_time(struct kp_log *l, int64_t ts, int64_t *offset,
    int64_t *timestamp)
{
	*offset = -1;
	*timestamp = -1;
	for (int i = 0; i < l->nseg; i++) {
		struct kp_segment *s = l->segs[i];
		int64_t pos, n, b, last, mts;

		if (s->max_ts < ts || s->size == 0)
			continue;
		for (pos = kp_segment_time_start(s, ts); pos < s->size;
		    pos += n) {
			struct kp_batch_iter it;
			struct kp_record r;

			n = kp_segment_header_at(s, pos, &b, &last, &mts);
			if (n <= 0)
				return KP_KAFKA_STORAGE_ERROR;
			if (mts < ts || last < l->log_start)
				continue;
			if (load_batch(l, s, pos, n) < 0)
				return KP_KAFKA_STORAGE_ERROR;
			/* the first record at or after ts inside the batch */
			if (kp_batch_iter_init(&it, l->scratch.data,
			    (size_t)n, 64u << 20) == 0) {
				while (kp_batch_iter_next(&it, &r) == 1) {
					if (r.timestamp >= ts &&
					    r.offset >= l->log_start) {
						*offset = r.offset;
						*timestamp = r.timestamp;
						break;
					}
				}
			}
			kp_batch_iter_release(&it);
			if (*offset < 0) {
				/* opaque codec: the batch is the best we know */
				*offset = b > l->log_start ? b : l->log_start;
				*timestamp = mts;
			}
			return KP_NONE;
		}
	}
	return KP_NONE;
}

void
kp_log_max_timestamp(const struct kp_log *l, int64_t *ts, int64_t *offset)
{
	*ts = -1;
	*offset = -1;
	for (int i = 0; i < l->nseg; i++) {
		if (l->segs[i]->max_ts > *ts) {
			*ts = l->segs[i]->max_ts;
			*offset = l->segs[i]->max_ts_offset;
		}
	}
}

/* --- retention --- */

/* Delete the oldest segment (never the only one). */
static int
delete_first(struct kp_log *l)
{
	struct kp_segment *s = l->segs[0];
	int64_t next = l->segs[1]->base;

	if (l->log_start < next)
		l->log_start = next;
	if (l->hw < l->log_start)
		l->hw = l->log_start;
	if (l->cleaner_offset < l->log_start)
		l->cleaner_offset = l->log_start;
	/* checkpoint first: a crash then still finds no record below it */
	if (checkpoint_write(l) < 0)
		return -1;
	seg_remove(l, 0);
	if (kp_segment_delete(s) < 0)
		return -1;
	return kp_fsync_dir(l->dir);
}

int
kp_log_enforce_retention(struct kp_log *l, int64_t now_ms)
{
	int64_t total = kp_log_size(l);
	int deleted = 0;

	if (l->rdonly || !(l->conf.cleanup_policy & KP_CLEANUP_DELETE))
		return 0;
	while (l->nseg > 1) {
		struct kp_segment *s = l->segs[0];
		int64_t ts = s->max_ts >= 0 ? s->max_ts : s->created_ms;
		bool by_time = l->conf.retention_ms >= 0 &&
		    now_ms - ts > l->conf.retention_ms;
		bool by_size = l->conf.retention_bytes >= 0 &&
		    total - s->size >= l->conf.retention_bytes;

		if (!by_time && !by_size)
			break;
		total -= s->size;
		if (delete_first(l) < 0)
			return -1;
		deleted++;
	}
	return deleted;
}

int
kp_log_delete_records(struct kp_log *l, int64_t offset, int64_t *low)
{
	int64_t old = l->log_start;

	*low = l->log_start;
	if (offset == -1)
		offset = l->hw;
	if (offset < 0 || offset > l->hw)
		return KP_OFFSET_OUT_OF_RANGE;
	if (l->rdonly) {
		errno = EROFS;
		return KP_KAFKA_STORAGE_ERROR;
	}
	if (offset <= l->log_start)
		return KP_NONE;
	l->log_start = offset;
	if (checkpoint_write(l) < 0) {
		l->log_start = old;
		return KP_KAFKA_STORAGE_ERROR;
	}
	*low = offset;
	/* whole segments below the new start go; the active one rolls */
	if (active(l)->size > 0 && offset >= kp_log_end_offset(l) &&
	    kp_log_roll(l, active(l)->created_ms) < 0)
		return KP_KAFKA_STORAGE_ERROR;
	while (l->nseg > 1 && l->segs[1]->base <= l->log_start)
		if (delete_first(l) < 0)
			return KP_KAFKA_STORAGE_ERROR;
	return KP_NONE;
}

int
kp_log_truncate(struct kp_log *l, int64_t offset)
{
	if (l->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (offset < 0) {
		errno = EINVAL;
		return -1;
	}
	if (offset >= kp_log_end_offset(l) && !(l->nseg == 1 &&
	    active(l)->size == 0 && offset > active(l)->base))
		return 0;
	/* segments starting at or after offset go, keeping at least one */
	while (l->nseg > 1 && active(l)->base >= offset) {
		struct kp_segment *s = active(l);

		l->nseg--;
		if (kp_segment_delete(s) < 0)
			return -1;
	}
	if (active(l)->base >= offset || offset < l->log_start ||
	    offset > kp_log_end_offset(l)) {
		/* nothing left below offset: start over there */
		struct kp_segment *s = active(l), *n;

		if ((n = seg_open(l, offset, true, s->created_ms)) == NULL)
			return -1;
		l->nseg--;
		if (s->base != offset && kp_segment_delete(s) < 0) {
			kp_segment_close(n);
			return -1;
		}
		if (s->base == offset)
			kp_segment_close(s);
		if (ftruncate(n->fd, 0) < 0 || kp_segment_scan(n, 0, NULL) < 0) {
			kp_segment_close(n);
			return -1;
		}
		(void)seg_push(l, n);	/* room: one was just removed */
		l->log_start = offset;
	} else if (kp_segment_truncate_offset(active(l), offset) < 0)
		return -1;
	if (kp_fsync_dir(l->dir) < 0)
		return -1;
	if (l->hw > kp_log_end_offset(l))
		l->hw = kp_log_end_offset(l);
	if (l->recovery_point > kp_log_end_offset(l))
		l->recovery_point = kp_log_end_offset(l);
	if (l->cleaner_offset > kp_log_end_offset(l))
		l->cleaner_offset = kp_log_end_offset(l);
	return checkpoint_write(l);
}

/* --- compaction --- */

void
kp_log_set_stable_offset(struct kp_log *l, int64_t off)
{
	l->stable = off < 0 ? INT64_MAX : off;
}

/* Where cleaning stops: the active segment, or the first reaching past the LSO. */
static int64_t
cleanable_end(const struct kp_log *l)
{
	for (int i = 0; i < l->nseg - 1; i++)
		if (l->segs[i]->next_offset > l->stable)
			return l->segs[i]->base;
	return active(l)->base;
}

/*
 * Was producer pid's transactional batch at offset aborted? Its marker
 * is the producer's first at or after offset (a producer has one
 * transaction open at a time), so the first entry of pid whose marker
 * is at or after offset decides.
 */
static bool
batch_aborted(void *arg, int64_t pid, int64_t offset)
{
	const struct kp_log *l = arg;

	for (int i = seg_for(l, offset); i < l->nseg; i++) {
		const struct kp_txnindex *x = &l->segs[i]->xi;

		for (size_t k = 0; k < x->n; k++)
			if (x->e[k].pid == pid && x->e[k].last_offset >= offset)
				return x->e[k].first_offset <= offset;
	}
	return false;
}

/*
 * Rename every file of segment base from <file><from> to <file><to>, the
 * .log last. Only a .txnindex may be missing: kp_log writes its
 * .txnindex.cleaned only when the aborted transactions changed.
 */
static int
move_set(struct kp_log *l, int64_t base, const char *from, const char *to)
{
	static const char *sx[] = { ".index", ".timeindex",
	    KP_TXNINDEX_SUFFIX, ".log" };
	char a[PATH_MAX], b[PATH_MAX], sfx[32];

	for (size_t k = 0; k < sizeof(sx) / sizeof(sx[0]); k++) {
		snprintf(sfx, sizeof(sfx), "%s%s", sx[k], from);
		kp_segment_path(a, sizeof(a), l->dir, base, sfx);
		snprintf(sfx, sizeof(sfx), "%s%s", sx[k], to);
		kp_segment_path(b, sizeof(b), l->dir, base, sfx);
		if (rename(a, b) < 0 && (errno != ENOENT ||
		    strcmp(sx[k], KP_TXNINDEX_SUFFIX) != 0))
			return -1;
	}
	return 0;
}

/* Put the cleaned copy of segs[i] in place: see tidy_dir for the order. */
static int
swap_in(struct kp_log *l, int i, struct kp_segment *c, int64_t now)
{
	struct kp_segment *old = l->segs[i], *n;
	int64_t base = old->base, next = old->next_offset;

	if (kp_segment_seal(c) < 0 || kp_segment_sync(c) < 0)
		return -1;
	kp_segment_close(c);
	if (move_set(l, base, ".cleaned", ".swap") < 0 ||
	    kp_fsync_dir(l->dir) < 0)
		return -1;
	/* from here the swap is decided: a crash finishes it on open */
	if (move_set(l, base, ".swap", "") < 0 || kp_fsync_dir(l->dir) < 0)
		return -1;
	if ((n = seg_open(l, base, false, now)) == NULL)
		return -1;
	if (kp_segment_load_closed(n, next) < 0) {
		kp_segment_close(n);
		return -1;
	}
	n->created_ms = old->created_ms;
	kp_segment_close(old);
	l->segs[i] = n;
	return 0;
}

static void
remove_cleaned(struct kp_log *l, int64_t base)
{
	static const char *sx[] = { ".log.cleaned", ".index.cleaned",
	    ".timeindex.cleaned", KP_TXNINDEX_SUFFIX ".cleaned" };
	char p[PATH_MAX];

	for (int k = 0; k < 4; k++) {
		kp_segment_path(p, sizeof(p), l->dir, base, sx[k]);
		(void)unlink(p);
	}
}

void
kp_log_set_marker_horizon(struct kp_log *l, int64_t offset)
{
	l->marker_horizon = offset;
}

/*
 * When the cleaner removed ABORT markers of s, the entries xi keeps (all
 * of s's others) become <base>.txnindex.cleaned, swapped in with the
 * segment: an entry left without its marker would have read_committed
 * consumers drop that producer's later records, waiting for a marker
 * that never comes. An empty file is an empty index.
 */
static int
cleaned_txnindex(struct kp_log *l, const struct kp_segment *s,
    const struct kp_buf *xi)
{
	char p[PATH_MAX];

	if (xi->len == s->xi.n * KP_TXNINDEX_ENTRY)
		return 0;
	kp_segment_path(p, sizeof(p), l->dir, s->base,
	    KP_TXNINDEX_SUFFIX ".cleaned");
	return kp_write_file_atomic(p, xi->data, xi->len);
}

int
kp_log_compact(struct kp_log *l, int64_t now_ms,
    struct kp_compact_report *rep)
{
	struct kp_compact_report r = { 0 };
	struct kp_keymap *map, *txns;
	struct kp_buf xi;
	int64_t upto, again = -1;
	int rc = -1;

	if (l->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (!(l->conf.cleanup_policy & KP_CLEANUP_COMPACT) || l->nseg < 2)
		goto done;
	if ((map = kp_keymap_new()) == NULL)
		return -1;
	if ((txns = kp_keymap_new()) == NULL) {
		kp_keymap_free(map);
		return -1;
	}
	kp_keymap_set_aborted(map, batch_aborted, l);
	kp_buf_init(&xi);
	upto = cleanable_end(l);
	/*
	 * The newest offset of every key, the active segment included; but
	 * with a transaction open, nothing from its segment on: its records
	 * may yet be aborted.
	 */
	for (int i = 0; i < l->nseg; i++) {
		if (l->stable != INT64_MAX && l->segs[i]->base >= upto)
			break;
		if (kp_compact_scan(map, l->segs[i], &l->scratch) < 0)
			goto out;
	}
	for (int i = 0; i < l->nseg - 1; i++) {
		struct kp_segment *s = l->segs[i], *c;
		struct kp_compact_report one = { 0 };
		bool drop_tombstones;

		if (s->max_ts >= 0 &&
		    now_ms - s->max_ts < l->conf.min_compaction_lag_ms) {
			/* too young, and so is what follows: come back */
			again = s->max_ts + l->conf.min_compaction_lag_ms;
			break;
		}
		if (s->base >= upto)
			break;	/* an open transaction's, or after it */
		drop_tombstones = s->max_ts >= 0 &&
		    now_ms - s->max_ts >= l->conf.delete_retention_ms;
		remove_cleaned(l, s->base);
		c = kp_segment_open_tagged(l->dir, s->base, ".cleaned",
		    l->conf.index_interval_bytes, l->conf.segment_index_bytes,
		    true, false, s->created_ms);
		if (c == NULL)
			goto out;
		kp_buf_reset(&xi);
		if (kp_compact_rewrite(map, txns, l->marker_horizon, s, c,
		    &xi, drop_tombstones, &l->scratch, &one) < 0 ||
		    cleaned_txnindex(l, s, &xi) < 0) {
			kp_segment_close(c);
			remove_cleaned(l, s->base);
			goto out;
		}
		r.records_kept += one.records_kept;
		r.tombstones_kept += one.tombstones_kept;
		if (one.tombstones_kept > 0 && s->max_ts >= 0) {
			int64_t t = s->max_ts + l->conf.delete_retention_ms;

			if (again < 0 || t < again)
				again = t;
		}
		r.bytes_before += one.bytes_before;
		r.bytes_after += one.bytes_after;
		if (one.records_removed + one.tombstones_removed +
		    one.markers_removed == 0) {
			kp_segment_close(c);
			remove_cleaned(l, s->base);
			continue;
		}
		if (swap_in(l, i, c, now_ms) < 0) {
			remove_cleaned(l, s->base);
			goto out;
		}
		r.records_removed += one.records_removed;
		r.tombstones_removed += one.tombstones_removed;
		r.markers_removed += one.markers_removed;
		r.segments_cleaned++;
	}
	l->cleaner_offset = upto;
	l->next_clean_ms = again;
	l->ckpt_dirty = true;
	rc = 0;
out:
	kp_keymap_free(map);
	kp_keymap_free(txns);
	kp_buf_release(&xi);
	if (rc < 0)
		return -1;
done:
	if (rep != NULL)
		*rep = r;
	return 0;
}

/* --- periodic work --- */

int
kp_log_tick(struct kp_log *l, int64_t now_ms, int64_t ckpt_ms)
{
	struct kp_segment *s = active(l);

	if (l->rdonly)
		return 0;
	if (l->unflushed_since >= 0 &&
	    now_ms - l->unflushed_since >= l->conf.flush_ms &&
	    kp_log_flush(l) < 0)
		return -1;
	if (s->size > 0 && now_ms - s->created_ms >= l->conf.segment_ms &&
	    kp_log_roll(l, now_ms) < 0)
		return -1;
	if (kp_log_enforce_retention(l, now_ms) < 0)
		return -1;
	if ((l->conf.cleanup_policy & KP_CLEANUP_COMPACT) &&
	    (l->cleaner_offset < cleanable_end(l) ||
	    (l->next_clean_ms >= 0 && now_ms >= l->next_clean_ms)) &&
	    kp_log_compact(l, now_ms, NULL) < 0)
		return -1;
	if (l->ckpt_dirty && now_ms >= l->ckpt_due_ms) {
		if (checkpoint_queue(l) < 0)
			return -1;
		l->ckpt_due_ms = now_ms + ckpt_ms;
	}
	return 0;
}

int
kp_log_remove_dir(const char *dir)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;

	kp_bgio_drain();	/* no queued checkpoint may land in it after */
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) < 0 && errno != ENOENT) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return rmdir(dir);
}
