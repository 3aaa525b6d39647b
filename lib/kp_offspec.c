/* kp_offspec.c -- consumer start/stop positions: beginning, -N, @time, ranges */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kp_offspec.h"

/* Read 1..max digits; -1 when there are none or too many for int64. */
static int
digits(const char **sp, int max, int64_t *v)
{
	const char *s = *sp;
	int n = 0;

	*v = 0;
	while (isdigit((unsigned char)*s) && n < max) {
		*v = *v * 10 + (*s++ - '0');
		n++;
	}
	if (n == 0)
		return -1;
	*sp = s;
	return n;
}

/* Exactly n digits. */
static int
fixed(const char **sp, int n, int64_t *v)
{
	const char *s = *sp;

	if (digits(&s, n, v) != n)
		return -1;
	*sp = s;
	return 0;
}

static int
duration(const char **sp, int64_t *ms)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 },
	};
	const char *s = *sp;
	int64_t v;
	size_t i;
	int any = 0;

	*ms = 0;
	while (digits(&s, 12, &v) > 0) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].u);

			/* "m" must not eat the "m" of "ms" */
			if (strncmp(s, units[i].u, ul) == 0 &&
			    !(ul == 1 && units[i].u[0] == 'm' && s[1] == 's'))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		s += strlen(units[i].u);
		/* A duration past about 292 million years is not a time. */
		if (v > (INT64_MAX - *ms) / units[i].ms)
			return -1;
		*ms += v * units[i].ms;
		any = 1;
	}
	if (!any)
		return -1;
	*sp = s;
	return 0;
}

static int
iso8601(const char **sp, int64_t *ms)
{
	const char *s = *sp;
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, zh, zm, off = 0;
	struct tm tm;
	time_t t;
	int n;

	if (fixed(&s, 4, &y) < 0 || *s++ != '-' || fixed(&s, 2, &mo) < 0 ||
	    *s++ != '-' || fixed(&s, 2, &d) < 0)
		return -1;
	if ((*s == 'T' || *s == ' ') && isdigit((unsigned char)s[1])) {
		s++;
		if (fixed(&s, 2, &h) < 0 || *s++ != ':' ||
		    fixed(&s, 2, &mi) < 0)
			return -1;
		if (*s == ':' && isdigit((unsigned char)s[1])) {
			s++;
			if (fixed(&s, 2, &sec) < 0)
				return -1;
			if (*s == '.') {
				s++;
				if ((n = digits(&s, 3, &frac)) < 0)
					return -1;
				while (n++ < 3)
					frac *= 10;
				while (isdigit((unsigned char)*s))
					s++;
			}
		}
		if (*s == 'Z') {
			s++;
		} else if ((*s == '+' || *s == '-') &&
		    isdigit((unsigned char)s[1])) {
			int sign = *s++ == '-' ? -1 : 1;

			if (fixed(&s, 2, &zh) < 0)
				return -1;
			if (*s == ':')
				s++;
			if (fixed(&s, 2, &zm) < 0)
				return -1;
			off = sign * (zh * 3600 + zm * 60);
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	if ((t = timegm(&tm)) == (time_t)-1 && y != 1969)
		return -1;
	if (tm.tm_mday != (int)d)	/* Feb 30 and friends */
		return -1;
	*ms = ((int64_t)t - off) * 1000 + frac;
	*sp = s;
	return 0;
}

int
kp_time_parse(const char **sp, int64_t now_ms, int64_t *ms)
{
	const char *s = *sp;
	int64_t v;

	if (*s == '-') {
		s++;
		if (duration(&s, &v) < 0)
			return -1;
		*ms = now_ms - v;
		*sp = s;
		return 0;
	}
	if (iso8601(&s, ms) == 0) {
		*sp = s;
		return 0;
	}
	s = *sp;
	if (digits(&s, 15, &v) < 0)
		return -1;
	*ms = v;
	*sp = s;
	return 0;
}

static int
word(const char **sp, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(*sp, w, n) != 0 || ((*sp)[n] != '\0' && (*sp)[n] != ':'))
		return 0;
	*sp += n;
	return 1;
}

static int
position(const char **sp, int64_t now_ms, struct kp_offpos *p)
{
	const char *s = *sp;
	int64_t v;

	if (word(&s, "beginning") || word(&s, "earliest") ||
	    word(&s, "start") || word(&s, "oldest"))
		p->kind = KP_OFF_BEGINNING, p->v = 0;
	else if (word(&s, "end") || word(&s, "latest") || word(&s, "newest"))
		p->kind = KP_OFF_END, p->v = 0;
	else if (*s == '@' || strncmp(s, "s@", 2) == 0) {
		s += *s == '@' ? 1 : 2;
		if (kp_time_parse(&s, now_ms, &v) < 0)
			return -1;
		p->kind = KP_OFF_TIME, p->v = v;
	} else if (*s == '-' || *s == '+') {
		p->kind = *s == '-' ? KP_OFF_TAIL : KP_OFF_AFTER_START;
		s++;
		if (digits(&s, 18, &p->v) < 0)
			return -1;
	} else {
		if (digits(&s, 18, &p->v) < 0)
			return -1;
		p->kind = KP_OFF_ABS;
	}
	*sp = s;
	return 0;
}

int
kp_offspec_parse(const char *spec, int64_t now_ms, struct kp_offspec *o,
    char *errbuf, size_t errlen)
{
	const char *s = spec;

	memset(o, 0, sizeof(*o));
	o->start.kind = KP_OFF_BEGINNING;
	if (strncmp(s, "e@", 2) == 0) {
		/* kcat's e@T: from the beginning, stop before time T */
		s += 2;
		o->has_end = true;
		o->end.kind = KP_OFF_TIME;
		if (kp_time_parse(&s, now_ms, &o->end.v) < 0 || *s != '\0')
			goto bad;
		return 0;
	}
	if (*s != ':' && position(&s, now_ms, &o->start) < 0)
		goto bad;
	if (*s == ':') {
		s++;
		if (*s != '\0') {
			o->has_end = true;
			if (position(&s, now_ms, &o->end) < 0)
				goto bad;
		} else if (s == spec + 1)
			goto bad;	/* ":" alone */
	}
	if (*s != '\0' || *spec == '\0')
		goto bad;
	return 0;
bad:
	snprintf(errbuf, errlen, "offset '%s': expected beginning, end, N, "
	    "-N, +N or @TIME, optionally START:END", spec);
	return -1;
}

int64_t
kp_offpos_resolve(const struct kp_offpos *p, int64_t log_start, int64_t hwm,
    int64_t at_time)
{
	int64_t o;

	switch (p->kind) {
	case KP_OFF_BEGINNING:
		o = log_start;
		break;
	case KP_OFF_END:
		o = hwm;
		break;
	case KP_OFF_TAIL:
		o = p->v > hwm ? log_start : hwm - p->v;
		break;
	case KP_OFF_AFTER_START:
		o = p->v > INT64_MAX - log_start ? hwm : log_start + p->v;
		break;
	case KP_OFF_TIME:
		o = at_time < 0 ? hwm : at_time;
		break;
	default:
		o = p->v;
	}
	if (o < log_start)
		o = log_start;
	if (o > hwm)
		o = hwm;
	return o;
}
