#!/usr/bin/python3
"""gen_proto.py -- generate lib/kp_proto_<area>.[ch] from kafka-protocol JSON.

The C structs and the field tables the kp_proto engine walks are copied
from the message schemas rather than typed by hand, so every version range,
nullable range, tag, default and ignorable flag matches the source of truth.
Run from the top of the tree after changing the schemas or AREAS:

    /usr/bin/python3 scripts/gen_proto.py /work/shared/kafka-protocol/message
"""
import json
import os
import re
import sys

AREAS = [
    ('meta', 'ApiVersions and Metadata', ['ApiVersions', 'Metadata']),
    ('produce', 'Produce', ['Produce']),
    ('fetch', 'Fetch, ListOffsets and OffsetForLeaderEpoch',
     ['Fetch', 'ListOffsets', 'OffsetForLeaderEpoch']),
    ('admin', 'topic, config, record and producer-id admin APIs',
     ['CreateTopics', 'DeleteTopics', 'CreatePartitions', 'DescribeConfigs',
      'AlterConfigs', 'IncrementalAlterConfigs', 'DeleteRecords',
      'InitProducerId']),
    ('group', 'consumer group coordinator APIs',
     ['FindCoordinator', 'JoinGroup', 'SyncGroup', 'Heartbeat', 'LeaveGroup',
      'OffsetCommit', 'OffsetFetch', 'ListGroups', 'DescribeGroups',
      'DeleteGroups', 'OffsetDelete']),
    ('consumer', 'ConsumerProtocol subscription and assignment',
     ['ConsumerProtocolSubscription', 'ConsumerProtocolAssignment']),
    ('repl', 'leader election and partition reassignment',
     ['ElectLeaders', 'AlterPartitionReassignments',
      'ListPartitionReassignments']),
    ('txn', 'transaction coordinator and marker APIs',
     ['AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit',
      'WriteTxnMarkers', 'DescribeTransactions', 'ListTransactions']),
]

# Versions kbroker advertises: research/protocol.md section 5, widened
# where the task asks (ApiVersions 0-3, InitProducerId 0-4, ...).
ADVERTISE = {
    'Produce': (0, 7), 'Fetch': (4, 11), 'ListOffsets': (1, 5),
    'OffsetForLeaderEpoch': (0, 4),
    'Metadata': (0, 8), 'OffsetCommit': (2, 7), 'OffsetFetch': (1, 5),
    'FindCoordinator': (0, 2), 'JoinGroup': (0, 5), 'Heartbeat': (0, 3),
    'LeaveGroup': (0, 2), 'SyncGroup': (0, 3), 'DescribeGroups': (0, 4),
    'ListGroups': (0, 2), 'ApiVersions': (0, 3), 'CreateTopics': (0, 4),
    'DeleteTopics': (0, 3), 'DeleteRecords': (0, 1),
    'InitProducerId': (0, 4), 'DescribeConfigs': (0, 2),
    'AlterConfigs': (0, 1), 'CreatePartitions': (0, 1),
    'DeleteGroups': (0, 1), 'IncrementalAlterConfigs': (0, 1),
    'OffsetDelete': (0, 0), 'ElectLeaders': (0, 2),
    'AlterPartitionReassignments': (0, 0),
    'ListPartitionReassignments': (0, 0),
    'AddPartitionsToTxn': (0, 3), 'AddOffsetsToTxn': (0, 3),
    'EndTxn': (0, 3), 'TxnOffsetCommit': (0, 3), 'WriteTxnMarkers': (0, 1),
    'DescribeTransactions': (0, 0), 'ListTransactions': (0, 0),
}

PRIM = {
    'bool': ('bool', 'KP_FT_BOOL'), 'int8': ('int8_t', 'KP_FT_I8'),
    'int16': ('int16_t', 'KP_FT_I16'), 'uint16': ('uint16_t', 'KP_FT_U16'),
    'int32': ('int32_t', 'KP_FT_I32'), 'int64': ('int64_t', 'KP_FT_I64'),
    'float64': ('double', 'KP_FT_F64'), 'uuid': ('uint8_t', 'KP_FT_UUID'),
    'string': ('struct kp_str', 'KP_FT_STRING'),
    'bytes': ('struct kp_bytes', 'KP_FT_BYTES'),
    'records': ('struct kp_bytes', 'KP_FT_RECORDS'),
}

C_WORDS = {'default', 'register', 'int', 'char', 'long', 'short', 'for',
           'if', 'else', 'do', 'while', 'case', 'switch', 'struct', 'union'}


def snake(name):
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', name)
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', s)
    s = s.lower()
    assert s not in C_WORDS, name
    return s


def vrange(s):
    """'3+', '1-4', '2', 'none' -> (min, max); none is (0, -1)."""
    if s is None or s == 'none':
        return (0, -1)
    if s.endswith('+'):
        return (int(s[:-1]), 'KP_V_MAX')
    if '-' in s:
        a, b = s.split('-')
        return (int(a), int(b))
    return (int(s), int(s))


def load(path):
    with open(path) as f:
        text = re.sub(r'(?m)^\s*//.*$', '', f.read())
    return json.loads(text)


def default_of(f, base):
    d = f.get('default')
    if isinstance(d, bool):
        return int(d)
    if isinstance(d, int):
        return d
    if d is None or d == 'null' or d == '':
        return 0
    if base == 'bool':
        return 1 if d == 'true' else 0
    return int(d, 0)


class Gen:
    def __init__(self, msgdir):
        self.msgdir = msgdir
        self.structs = []     # (cname, kafka name, fields, top info)

    def message(self, api, kind):
        """kind: 'req', 'resp' or None for data messages."""
        if kind:
            d = load(os.path.join(self.msgdir, api +
                     ('Request' if kind == 'req' else 'Response') + '.json'))
            top = 'kp_%s_%s' % (snake(api), kind)
        else:
            d = load(os.path.join(self.msgdir, api + '.json'))
            top = 'kp_' + snake(api.replace('ConsumerProtocol', 'Consumer'))
        info = {
            'name': d['name'], 'top': top,
            'vr': vrange(d['validVersions']),
            'fmin': vrange(d.get('flexibleVersions', 'none'))[0]
            if d.get('flexibleVersions', 'none') != 'none' else 'KP_V_MAX',
            'common': {c['name']: c for c in d.get('commonStructs', [])},
            'prefixes': [d['name'], api],
            'seen': {},
        }
        out = []
        self.walk(info, top, d['name'], d['fields'], out)
        return info, out

    def subname(self, info, tname):
        for p in info['prefixes']:
            if tname.startswith(p) and len(tname) > len(p) and \
                    tname[len(p)].isupper():
                tname = tname[len(p):]
                break
        return info['top'] + '_' + snake(tname)

    def walk(self, info, cname, kname, fields, out):
        """Append (cname, kname, fields) children first."""
        if cname in info['seen']:
            return
        info['seen'][cname] = True
        rows = []
        for f in fields:
            t = f['type']
            arr = t.startswith('[]')
            base = t[2:] if arr else t
            row = {'f': f, 'arr': arr, 'base': base, 'c': snake(f['name'])}
            if base not in PRIM:
                sub = f.get('fields')
                if sub is None:
                    sub = info['common'][base]['fields']
                sc = self.subname(info, base)
                self.walk(info, sc, base, sub, out)
                row['sub'] = sc
            rows.append(row)
        out.append((cname, kname, rows, info))

    @staticmethod
    def struct_decl(cname, rows):
        lines = ['struct %s {' % cname]
        for r in rows:
            f, c = r['f'], r['c']
            if 'sub' in r:
                ct = 'struct %s' % r['sub']
            else:
                ct = PRIM[r['base']][0]
            if r['arr']:
                lines.append('\t%s\t*%s;' % (ct, c))
                lines.append('\tint32_t\tn_%s;' % c)
            elif r['base'] == 'uuid':
                lines.append('\tuint8_t\t%s[16];' % c)
            else:
                lines.append('\t%s\t%s;' % (ct, c))
        if not rows:
            lines.append('\tchar\tunused_;')
        lines.append('};')
        return '\n'.join(lines)

    @staticmethod
    def table(cname, kname, rows, info):
        short = cname[3:]
        lines = []
        if rows:
            lines.append('#define T\tstruct %s' % cname)
            lines.append('static const struct kp_field f_%s[] = {' % short)
            for r in rows:
                f = r['f']
                vmin, vmax = vrange(f['versions'])
                nmin, nmax = vrange(f.get('nullableVersions'))
                tmin, tmax = vrange(f.get('taggedVersions'))
                flags = []
                if r['arr']:
                    flags.append('KP_FF_ARRAY')
                if f.get('ignorable'):
                    flags.append('KP_FF_IGNORABLE')
                if f.get('default') == 'null':
                    flags.append('KP_FF_DEFNULL')
                ftype = 'KP_FT_STRUCT' if 'sub' in r else PRIM[r['base']][1]
                cnt = 'offsetof(T, n_%s)' % r['c'] if r['arr'] else '0'
                sub = '&kp_msg_%s' % r['sub'][3:] if 'sub' in r else 'NULL'
                lines.append('\t{ "%s", offsetof(T, %s), %s,' % (
                    f['name'], r['c'], cnt))
                lines.append('\t    %s, %s,' % (ftype,
                                                 '|'.join(flags) or '0'))
                lines.append('\t    %s, %s, %s, %s, %s, %s, %d, %dLL,' % (
                    vmin, vmax, nmin, nmax, tmin, tmax, f.get('tag', -1),
                    default_of(f, r['base'])))
                lines.append('\t    %s },' % sub)
            lines.append('};')
            ftab, nf = 'f_' + short, 'KP_NELEM(f_%s)' % short
        else:
            ftab, nf = 'NULL', '0'
        vr = info['vr']
        lines.append('const struct kp_msg kp_msg_%s = {' % short)
        lines.append('\t"%s", sizeof(T),' % kname if rows else
                     '\t"%s", sizeof(struct %s),' % (kname, cname))
        lines.append('\t%s, %s, %s, %s, %s\n};' % (ftab, nf, vr[0], vr[1],
                                                   info['fmin']))
        if rows:
            lines.append('#undef T')
        return '\n'.join(lines)


HEAD_PROTOS = '''int	%(t)s_encode(struct kp_buf *, int16_t version,
	    const struct %(t)s *);
int	%(t)s_decode(const uint8_t *, size_t, int16_t version,
	    struct %(t)s *, struct kp_arena *);'''

SRC_FUNCS = '''int
%(t)s_encode(struct kp_buf *b, int16_t version,
    const struct %(t)s *m)
{
	return kp_proto_encode(b, &kp_msg_%(s)s, version, m);
}

int
%(t)s_decode(const uint8_t *p, size_t len, int16_t version,
    struct %(t)s *m, struct kp_arena *a)
{
	return kp_proto_decode(p, len, &kp_msg_%(s)s, version, m, a);
}'''

DATA_PROTOS = '''/*
 * The bytes inside JoinGroup/SyncGroup: an int16 version, then the body.
 * Decoding reads a newer version as the newest one known and ignores the
 * bytes after it, as Kafka does, and reports the version read.
 */
int	%(t)s_encode(struct kp_buf *, int16_t version,
	    const struct %(t)s *);
int	%(t)s_decode(const uint8_t *, size_t, int16_t *version,
	    struct %(t)s *, struct kp_arena *);'''

DATA_FUNCS = '''int
%(t)s_encode(struct kp_buf *b, int16_t version,
    const struct %(t)s *m)
{
	if (version < kp_msg_%(s)s.vmin)
		return -1;
	kp_buf_put_i16(b, version);
	return kp_proto_encode(b, &kp_msg_%(s)s, version, m);
}

int
%(t)s_decode(const uint8_t *p, size_t len, int16_t *version,
    struct %(t)s *m, struct kp_arena *a)
{
	struct kp_reader r;
	int16_t v;

	kp_reader_init(&r, p, len);
	v = kp_read_i16(&r);
	if (r.err || v < 0)
		return -1;
	if (version)
		*version = v;
	if (v > kp_msg_%(s)s.vmax)
		v = kp_msg_%(s)s.vmax;
	return kp_proto_read(&r, &kp_msg_%(s)s, v, m, a);
}'''

FETCH_PROTOS = '''/*
 * A Fetch response in pieces, so the broker can splice record bytes from
 * segment files (sendfile) instead of copying them:
 *
 *   kp_fetch_resp_begin(b, v, resp, ntopics)
 *     kp_fetch_resp_topic_begin(b, v, topic, npartitions)
 *       kp_fetch_resp_partition_begin(b, v, part, records_len)
 *       ... the caller sends records_len record bytes ...
 *       kp_fetch_resp_partition_end(b, v, part)
 *     kp_fetch_resp_topic_end(b, v, topic)
 *   kp_fetch_resp_end(b, v, resp)
 *
 * Each piece encodes what kp_fetch_resp_encode would put there; the
 * arrays and records the counts and length stand for are ignored.
 * records_len -1 sends null records. Return 0, or -1 as the encoder does.
 */
int	kp_fetch_resp_begin(struct kp_buf *, int16_t version,
	    const struct kp_fetch_resp *, int32_t ntopics);
int	kp_fetch_resp_end(struct kp_buf *, int16_t version,
	    const struct kp_fetch_resp *);
int	kp_fetch_resp_topic_begin(struct kp_buf *, int16_t version,
	    const struct kp_fetch_resp_fetchable_topic_response *,
	    int32_t npartitions);
int	kp_fetch_resp_topic_end(struct kp_buf *, int16_t version,
	    const struct kp_fetch_resp_fetchable_topic_response *);
int	kp_fetch_resp_partition_begin(struct kp_buf *, int16_t version,
	    const struct kp_fetch_resp_partition_data *, int32_t records_len);
int	kp_fetch_resp_partition_end(struct kp_buf *, int16_t version,
	    const struct kp_fetch_resp_partition_data *);'''

FETCH_FUNCS = '''/* The field the caller fills in itself; the schema keeps it last. */
static size_t
field_index(const struct kp_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (strcmp(m->fields[i].name, name) == 0)
			return i;
	return m->nfields;
}

int
kp_fetch_resp_begin(struct kp_buf *b, int16_t version,
    const struct kp_fetch_resp *m, int32_t ntopics)
{
	const struct kp_msg *d = &kp_msg_fetch_resp;

	return kp_proto_encode_head(b, d, version, m,
	    field_index(d, "Responses"), ntopics);
}

int
kp_fetch_resp_end(struct kp_buf *b, int16_t version,
    const struct kp_fetch_resp *m)
{
	const struct kp_msg *d = &kp_msg_fetch_resp;

	return kp_proto_encode_tail(b, d, version, m,
	    field_index(d, "Responses"));
}

int
kp_fetch_resp_topic_begin(struct kp_buf *b, int16_t version,
    const struct kp_fetch_resp_fetchable_topic_response *m,
    int32_t npartitions)
{
	const struct kp_msg *d = &kp_msg_fetch_resp_fetchable_topic_response;

	return kp_proto_encode_head(b, d, version, m,
	    field_index(d, "Partitions"), npartitions);
}

int
kp_fetch_resp_topic_end(struct kp_buf *b, int16_t version,
    const struct kp_fetch_resp_fetchable_topic_response *m)
{
	const struct kp_msg *d = &kp_msg_fetch_resp_fetchable_topic_response;

	return kp_proto_encode_tail(b, d, version, m,
	    field_index(d, "Partitions"));
}

int
kp_fetch_resp_partition_begin(struct kp_buf *b, int16_t version,
    const struct kp_fetch_resp_partition_data *m, int32_t records_len)
{
	const struct kp_msg *d = &kp_msg_fetch_resp_partition_data;

	return kp_proto_encode_head(b, d, version, m,
	    field_index(d, "Records"), records_len);
}

int
kp_fetch_resp_partition_end(struct kp_buf *b, int16_t version,
    const struct kp_fetch_resp_partition_data *m)
{
	const struct kp_msg *d = &kp_msg_fetch_resp_partition_data;

	return kp_proto_encode_tail(b, d, version, m,
	    field_index(d, "Records"));
}'''

NOTE = ('Generated by scripts/gen_proto.py from kafka-protocol/message/<Name>.json;\n'
        ' * edit the generator, not this file.')


def emit_area(gen, area, what, apis, libdir):
    hdr, src = [], []
    guard = 'KP_PROTO_%s_H' % area.upper()
    hdr.append('/* kp_proto_%s.h -- %s codecs */' % (area, what))
    hdr.append('#ifndef %s\n#define %s\n' % (guard, guard))
    hdr.append('#include <stdbool.h>\n#include <stddef.h>\n'
               '#include <stdint.h>\n\n#include "kp_proto.h"\n')
    hdr.append('/*\n * %s\n *\n * Per message: struct kp_<api>_req/_resp '
               '(field names are Kafka\'s in\n * snake_case), _init() for '
               'schema defaults, _encode() appending to a\n * kp_buf (0, or '
               '-1 if not sendable at that version) and _decode()\n * '
               '(0, or -1 malformed; strings borrow the input, arrays come '
               'from the\n * arena). See kp_proto.h.\n */\n' % NOTE)
    src.append('/* kp_proto_%s.c -- %s codecs */' % (area, what))
    src.append('/*\n * %s\n */\n' % NOTE)
    src.append('#include <stddef.h>\n#include <string.h>\n\n'
               '#include "kp_proto_%s.h"\n' % area)
    src.append('#define KP_NELEM(a)\t(sizeof(a) / sizeof((a)[0]))\n')
    src.append('/*\n * Field rows: Kafka name, value offset, array count offset, type,\n'
               ' * flags, versions, nullableVersions, taggedVersions (min, max;\n'
               ' * max -1 = never), tag, default, element schema.\n */\n')
    for api in apis:
        kinds = [None] if api.startswith('ConsumerProtocol') else \
            ['req', 'resp']
        for kind in kinds:
            info, structs = gen.message(api, kind)
            top = info['top']
            hdr.append('/* %s, versions %s-%s */' % (
                info['name'], info['vr'][0], info['vr'][1]))
            for cname, kname, rows, _ in structs:
                hdr.append(gen.struct_decl(cname, rows) + '\n')
            for cname, kname, rows, _ in structs:
                hdr.append('extern const struct kp_msg\tkp_msg_%s;' %
                           cname[3:])
            hdr.append('')
            for cname, kname, rows, _ in structs:
                if cname != top:
                    hdr.append('static inline void\n%s_init(struct %s *m)\n'
                               '{\n\tkp_proto_init(&kp_msg_%s, m);\n}\n' % (
                                   cname, cname, cname[3:]))
            hdr.append('void\t%s_init(struct %s *);' % (top, top))
            d = {'t': top, 's': top[3:]}
            hdr.append((DATA_PROTOS if kind is None else HEAD_PROTOS) % d)
            hdr.append('')
            for cname, kname, rows, inf in structs:
                src.append(gen.table(cname, kname, rows, inf) + '\n')
            src.append('void\n%s_init(struct %s *m)\n{\n\tkp_proto_init('
                       '&kp_msg_%s, m);\n}\n' % (top, top, top[3:]))
            src.append((DATA_FUNCS if kind is None else SRC_FUNCS) % d)
            src.append('')
    if area == 'fetch':
        hdr.append(FETCH_PROTOS + '\n')
        src.append(FETCH_FUNCS)
    hdr.append('#endif')
    with open(os.path.join(libdir, 'kp_proto_%s.h' % area), 'w') as f:
        f.write('\n'.join(hdr) + '\n')
    with open(os.path.join(libdir, 'kp_proto_%s.c' % area), 'w') as f:
        f.write('\n'.join(src).rstrip('\n') + '\n')


def emit_table(gen, libdir):
    keys = []
    for area, _, apis in AREAS:
        for api in apis:
            if api.startswith('ConsumerProtocol'):
                continue
            d = load(os.path.join(gen.msgdir, api + 'Request.json'))
            keys.append((d['apiKey'], api, area))
    keys.sort()
    src = ['/* kp_proto_apis.c -- the APIs kpipe speaks and the versions '
           'kbroker advertises */',
           '/*\n * %s\n */\n' % NOTE,
           '#include "kp_proto_admin.h"', '#include "kp_proto_fetch.h"',
           '#include "kp_proto_group.h"', '#include "kp_proto_meta.h"',
           '#include "kp_proto_produce.h"',
           '#include "kp_proto_repl.h"',
           '#include "kp_proto_txn.h"\n',
           'const struct kp_proto_api kp_proto_apis[] = {']
    for key, api, area in keys:
        lo, hi = ADVERTISE[api]
        s = snake(api)
        src.append('\t{ %d, %d, %d, &kp_msg_%s_req, &kp_msg_%s_resp },' % (
            key, lo, hi, s, s))
    src.append('};\n')
    src.append('const size_t kp_proto_napis = '
               'sizeof(kp_proto_apis) / sizeof(kp_proto_apis[0]);')
    with open(os.path.join(libdir, 'kp_proto_apis.c'), 'w') as f:
        f.write('\n'.join(src) + '\n')


def main():
    msgdir = sys.argv[1] if len(sys.argv) > 1 else \
        '/work/shared/kafka-protocol/message'
    libdir = sys.argv[2] if len(sys.argv) > 2 else 'lib'
    gen = Gen(msgdir)
    for area, what, apis in AREAS:
        emit_area(gen, area, what, apis, libdir)
    emit_table(gen, libdir)


if __name__ == '__main__':
    main()
