/* test_kp_offspec.c -- offset specs, times and ranges as kconsume -o reads them */
#include <string.h>

#include "kp_offspec.h"
#include "tap.h"

#define NOW	1700000000000LL		/* 2023-11-14T22:13:20Z */

static char why[256];

static void
spec(const char *s, int sk, long long sv, int has_end, int ek, long long ev)
{
	struct kp_offspec o;
	int rc = kp_offspec_parse(s, NOW, &o, why, sizeof(why));

	is_int(rc, 0, "'%s' parses", s);
	if (rc != 0)
		return;
	ok(o.start.kind == sk && o.start.v == sv, "'%s' start %d/%lld "
	    "(got %d/%lld)", s, sk, sv, o.start.kind, (long long)o.start.v);
	ok(o.has_end == has_end && (!has_end ||
	    (o.end.kind == ek && o.end.v == ev)), "'%s' end", s);
}

static void
bad(const char *s)
{
	struct kp_offspec o;

	why[0] = '\0';
	is_int(kp_offspec_parse(s, NOW, &o, why, sizeof(why)), -1,
	    "'%s' rejected", s);
	ok(strstr(why, s) != NULL, "  error names it: %s", why);
}

static void
tm(const char *s, long long want)
{
	const char *p = s;
	int64_t ms = 0;

	ok(kp_time_parse(&p, NOW, &ms) == 0 && *p == '\0' && ms == want,
	    "time '%s' = %lld (got %lld)", s, want, (long long)ms);
}

int
main(void)
{
	spec("beginning", KP_OFF_BEGINNING, 0, 0, 0, 0);
	spec("earliest", KP_OFF_BEGINNING, 0, 0, 0, 0);
	spec("end", KP_OFF_END, 0, 0, 0, 0);
	spec("latest", KP_OFF_END, 0, 0, 0, 0);
	spec("42", KP_OFF_ABS, 42, 0, 0, 0);
	spec("-10", KP_OFF_TAIL, 10, 0, 0, 0);
	spec("+3", KP_OFF_AFTER_START, 3, 0, 0, 0);
	spec("@1700000000000", KP_OFF_TIME, NOW, 0, 0, 0);
	spec("s@1700000000000", KP_OFF_TIME, NOW, 0, 0, 0);
	spec("@-1h", KP_OFF_TIME, NOW - 3600000, 0, 0, 0);
	spec("@-1h30m", KP_OFF_TIME, NOW - 5400000, 0, 0, 0);
	spec("@-500ms", KP_OFF_TIME, NOW - 500, 0, 0, 0);
	spec(":end", KP_OFF_BEGINNING, 0, 1, KP_OFF_END, 0);
	spec("5:10", KP_OFF_ABS, 5, 1, KP_OFF_ABS, 10);
	spec("-5:end", KP_OFF_TAIL, 5, 1, KP_OFF_END, 0);
	spec("10:", KP_OFF_ABS, 10, 0, 0, 0);
	spec("@-1h:end", KP_OFF_TIME, NOW - 3600000, 1, KP_OFF_END, 0);
	spec("@2023-11-14T22:13:20Z:@2023-11-14T22:13:21Z", KP_OFF_TIME, NOW,
	    1, KP_OFF_TIME, NOW + 1000);
	spec("beginning:+100", KP_OFF_BEGINNING, 0, 1, KP_OFF_AFTER_START,
	    100);
	spec("e@1700000000000", KP_OFF_BEGINNING, 0, 1, KP_OFF_TIME, NOW);

	tm("2023-11-14", 1699920000000LL);
	tm("2023-11-14T22:13:20Z", NOW);
	tm("2023-11-14T22:13:20.123Z", NOW + 123);
	tm("2023-11-14T22:13", NOW - 20000);
	tm("2023-11-14 22:13:20", NOW);
	tm("2023-11-15T00:13:20+02:00", NOW);
	tm("2023-11-14T20:13:20-0200", NOW);
	tm("-2d", NOW - 2 * 86400000LL);
	tm("1700000000000", NOW);

	bad("@-555555555555w");	/* overflowed int64 before (fuzz_text) */
	bad("");
	bad(":");
	bad("begin");
	bad("-x");
	bad("@");
	bad("@2023-13-01");
	bad("@2023-02-30");
	bad("@-1y");
	bad("5:6:7");
	bad("12abc");

	struct kp_offpos p = { KP_OFF_TAIL, 3 };
	is_int(kp_offpos_resolve(&p, 10, 100, -1), 97, "-3 of [10,100)");
	p.v = 500;
	is_int(kp_offpos_resolve(&p, 10, 100, -1), 10, "-500 clamps to start");
	p.kind = KP_OFF_AFTER_START, p.v = 5;
	is_int(kp_offpos_resolve(&p, 10, 100, -1), 15, "+5 after start 10");
	p.kind = KP_OFF_ABS, p.v = 3;
	is_int(kp_offpos_resolve(&p, 10, 100, -1), 10, "3 below start clamps");
	p.kind = KP_OFF_TIME;
	is_int(kp_offpos_resolve(&p, 10, 100, -1), 100, "no record that new: end");
	is_int(kp_offpos_resolve(&p, 10, 100, 40), 40, "time found: its offset");
	return tap_done();
}
