/* test_kp_epoch.c -- the leader-epoch cache: Kafka's assign/endOffsetFor rules, the checkpoint file, rebuild from batches */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kp_epoch.h"
#include "kp_logconf.h"
#include "logtest.h"
#include "tap.h"

#define NOW	1700000000000LL

static void
end_is(const struct kp_epoch_cache *c, int32_t req, int64_t leo,
    int32_t we, int64_t wo, const char *what)
{
	int32_t e;
	int64_t o;

	kp_epoch_end_for(c, req, leo, &e, &o);
	ok(e == we && o == wo, "%s: epoch %d end %lld (want %d %lld)", what,
	    e, (long long)o, we, (long long)wo);
}

static void
test_rules(void)
{
	struct kp_epoch_cache c;

	kp_epoch_init(&c);
	end_is(&c, 0, 10, -1, -1, "empty cache knows nothing");
	is_int(kp_epoch_assign(&c, 0, 0), 1, "epoch 0 at 0");
	is_int(kp_epoch_assign(&c, 0, 5), 0, "same epoch later: no change");
	is_int(kp_epoch_assign(&c, 2, 10), 1, "epoch 2 at 10");
	is_int(kp_epoch_assign(&c, 4, 30), 1, "epoch 4 at 30");
	is_int(kp_epoch_latest(&c), 4, "latest epoch");
	end_is(&c, 4, 42, 4, 42, "latest epoch ends at the log end");
	end_is(&c, 2, 42, 2, 30, "epoch 2 ends where 4 starts");
	end_is(&c, 3, 42, 2, 30, "unknown epoch 3: floor 2, ends at 30");
	end_is(&c, 0, 42, 0, 10, "epoch 0 ends at 10");
	end_is(&c, 5, 42, -1, -1, "newer than all: undefined");
	end_is(&c, -1, 42, -1, -1, "no epoch asked: undefined");
	/* a conflicting assignment drops what it contradicts */
	is_int(kp_epoch_assign(&c, 3, 20), 1, "epoch 3 at 20 replaces 4");
	ok(c.n == 3 && c.e[2].epoch == 3 && c.e[2].start == 20,
	    "entries 0@0 2@10 3@20");
	is_int(kp_epoch_truncate(&c, 15), 1, "cut at 15 drops 3@20");
	is_int(kp_epoch_latest(&c), 2, "latest 2 after the cut");
	is_int(kp_epoch_truncate(&c, 15), 0, "cutting again: no change");
	is_int(kp_epoch_assign(&c, -1, 3), 0, "negative epoch ignored");
	kp_epoch_release(&c);

	kp_epoch_init(&c);
	kp_epoch_assign(&c, 5, 100);
	end_is(&c, 1, 120, 1, 100, "older than all: asked epoch, first start");
	kp_epoch_release(&c);
}

static void
test_file(void)
{
	struct kp_epoch_cache c, d;
	char dir[256], path[320];
	FILE *f;

	lt_tmpdir(dir, sizeof(dir), "epoch");
	kp_epoch_init(&c);
	kp_epoch_init(&d);
	ok(kp_epoch_load(&d, dir) == -1 && errno == ENOENT, "no file: ENOENT");
	kp_epoch_assign(&c, 0, 0);
	kp_epoch_assign(&c, 7, 1234567890123LL);
	is_int(kp_epoch_save(&c, dir), 0, "save");
	snprintf(path, sizeof(path), "%s/%s", dir, KP_EPOCH_FILE);
	{
		char text[128] = "";
		size_t n;

		f = fopen(path, "r");
		n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		text[n] = '\0';
		if (f)
			fclose(f);
		ok(strcmp(text, "0\n2\n0 0\n7 1234567890123\n") == 0,
		    "Kafka's checkpoint format");
	}
	is_int(kp_epoch_load(&d, dir), 0, "load");
	ok(d.n == 2 && d.e[1].epoch == 7 && d.e[1].start == 1234567890123LL,
	    "round trip");
	f = fopen(path, "w");
	fputs("0\n2\n3 10\n1 20\n", f);	/* epochs going backwards */
	fclose(f);
	ok(kp_epoch_load(&d, dir) == -1 && errno == EINVAL && d.n == 0,
	    "out-of-order entries: EINVAL");
	f = fopen(path, "w");
	fputs("1\n0\n", f);
	fclose(f);
	ok(kp_epoch_load(&d, dir) == -1 && errno == EINVAL,
	    "unknown version: EINVAL");
	f = fopen(path, "w");
	fputs("0\n3\n1 10\n", f);
	fclose(f);
	ok(kp_epoch_load(&d, dir) == -1 && errno == EINVAL,
	    "fewer entries than counted: EINVAL");
	kp_epoch_release(&c);
	kp_epoch_release(&d);
	lt_rmrf(dir);
}

static void
append_epoch(struct kp_log *l, int n, int32_t epoch)
{
	struct kp_buf b;

	kp_buf_init(&b);
	lt_batch(&b, n, 0, NOW, 8);
	if (kp_log_append(l, b.data, b.len, epoch, NOW, NULL) != KP_NONE)
		exit(1);
	kp_buf_release(&b);
}

static void
test_rebuild(void)
{
	struct kp_epoch_cache c;
	struct kp_logconf conf;
	struct kp_log *l;
	char dir[256], pdir[300];

	lt_tmpdir(dir, sizeof(dir), "epochlog");
	snprintf(pdir, sizeof(pdir), "%s/t-0", dir);
	kp_logconf_defaults(&conf);
	conf.segment_bytes = 300;	/* several segments */
	l = kp_log_open(pdir, &conf, KP_LOG_CREATE, NOW, NULL);
	ok(l != NULL, "open a log");
	append_epoch(l, 3, 0);		/* 0..2 */
	append_epoch(l, 2, 0);		/* 3..4 */
	append_epoch(l, 4, 2);		/* 5..8 */
	append_epoch(l, 1, 2);		/* 9 */
	append_epoch(l, 2, 5);		/* 10..11 */
	kp_epoch_init(&c);
	kp_epoch_assign(&c, 9, 99);	/* replaced by the rebuild */
	is_int(kp_epoch_rebuild(&c, l), 0, "rebuild");
	ok(c.n == 3 && c.e[0].epoch == 0 && c.e[0].start == 0 &&
	    c.e[1].epoch == 2 && c.e[1].start == 5 &&
	    c.e[2].epoch == 5 && c.e[2].start == 10,
	    "epochs 0@0 2@5 5@10 from the batches");
	is_int(kp_log_segment_count(l) > 1, 1, "the log spans segments");
	end_is(&c, 2, kp_log_end_offset(l), 2, 10, "epoch 2 ended at 10");
	kp_log_close(l);
	kp_epoch_release(&c);
	lt_rmrf(dir);
}

int
main(void)
{
	test_rules();
	test_file();
	test_rebuild();
	return tap_done();
}
