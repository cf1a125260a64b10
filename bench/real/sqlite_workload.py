"""sqlite3 workload: SQL script generator and independent result check.

bench/run.py imports this module: it feeds make_sql(n) to
`sqlite3 -bail :memory:` on stdin (the allocator under test is preloaded
into sqlite3 only) and compares sqlite3's stdout with expected_output(n),
which computes every query's answer in plain Python.

Standalone use (runs /usr/bin/sqlite3 under whatever LD_PRELOAD is set):
    python3 sqlite_workload.py [rows]
"""
import subprocess
import sys

QUICK_ROWS = 10000
FULL_ROWS = 200000


def rows_for_scale(scale):
    n = max(2000, int(FULL_ROWS * scale))
    if n % 7919 == 0:  # keys (i*7919) % n must be distinct
        n += 1
    return n


def make_sql(n):
    return f"""
PRAGMA cache_size = -131072;
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER, pad BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n})
INSERT INTO t SELECT i, printf('k%08d', (i * 7919) % {n}), (i * 31337) % 1000003,
       zeroblob(16 + i % 200) FROM c;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_v ON t(v);
SELECT count(*), sum(v), sum(length(pad)) FROM t;
SELECT count(*) FROM t WHERE k BETWEEN 'k00001000' AND 'k00002000';
SELECT v % 97, count(*), sum(id) FROM t GROUP BY 1 ORDER BY 1 LIMIT 5;
UPDATE t SET pad = zeroblob(300) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(length(pad)) FROM t;
SELECT k FROM t ORDER BY v DESC LIMIT 3;
CREATE TABLE u AS SELECT k, v FROM t ORDER BY k;
SELECT count(*), min(k), max(k), sum(v) FROM u;
SELECT count(*) FROM t a JOIN t b ON a.v = b.id;
SELECT count(DISTINCT v % 1000) FROM t;
SELECT sum(length(k || '-' || v || '-' || hex(pad))) FROM t WHERE id % 7 = 0;
DROP TABLE u;
SELECT 'done';
"""


def expected_output(n):
    rows = {}
    for i in range(1, n + 1):
        rows[i] = ["k%08d" % ((i * 7919) % n), (i * 31337) % 1000003, 16 + i % 200]
    out = []
    out.append("%d|%d|%d" % (len(rows), sum(r[1] for r in rows.values()),
                             sum(r[2] for r in rows.values())))
    out.append(str(sum(1 for r in rows.values() if "k00001000" <= r[0] <= "k00002000")))
    groups = {}
    for i, r in rows.items():
        g = groups.setdefault(r[1] % 97, [0, 0])
        g[0] += 1
        g[1] += i
    for g in sorted(groups)[:5]:
        out.append("%d|%d|%d" % (g, groups[g][0], groups[g][1]))
    for i, r in rows.items():
        if i % 3 == 0:
            r[2] = 300
    for i in [i for i in rows if i % 5 == 0]:
        del rows[i]
    out.append("%d|%d" % (len(rows), sum(r[2] for r in rows.values())))
    for r in sorted(rows.values(), key=lambda r: -r[1])[:3]:
        out.append(r[0])
    ks = sorted(r[0] for r in rows.values())
    out.append("%d|%s|%s|%d" % (len(ks), ks[0], ks[-1], sum(r[1] for r in rows.values())))
    out.append(str(sum(1 for r in rows.values() if r[1] in rows)))
    out.append(str(len({r[1] % 1000 for r in rows.values()})))
    out.append(str(sum(len(r[0]) + 1 + len(str(r[1])) + 1 + 2 * r[2]
                       for i, r in rows.items() if i % 7 == 0)))
    out.append("done")
    return "\n".join(out) + "\n"


def check(stdout, n):
    """Return None when stdout is right, else a short description."""
    want = expected_output(n)
    if stdout == want:
        return None
    got_l, want_l = stdout.splitlines(), want.splitlines()
    for j, (g, w) in enumerate(zip(got_l, want_l)):
        if g != w:
            return "line %d: got %r, want %r" % (j + 1, g, w)
    return "got %d lines, want %d" % (len(got_l), len(want_l))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else QUICK_ROWS
    p = subprocess.run(["sqlite3", "-bail", ":memory:"], input=make_sql(n),
                       capture_output=True, text=True)
    err = check(p.stdout, n) if p.returncode == 0 else "exit %d: %s" % (p.returncode, p.stderr)
    print("sqlite OK" if err is None else "FAIL: " + err)
    sys.exit(0 if err is None else 1)
