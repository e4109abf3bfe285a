#!/usr/bin/env python3
"""tools/dev/explain-check.py - does every statement mod_authsvc prepares find its rows
through an index on a big database?

    explain-check.py STMTS sqlite3 DBFILE
    explain-check.py STMTS pgsql          (psql; connection from PGHOST, PGPORT, ...)

STMTS is the output of tools/dev/bench/stmts.c (label TAB sql, the statements exactly
as src/store*.c registers them). Each statement is prepared with placeholders for
apr_dbd's %s %lld %d and explained as prepared, before values count (EXPLAIN QUERY
PLAN in SQLite; EXPLAIN EXECUTE of the generic plan in PostgreSQL; nothing is
executed). A plan that reads a whole big table (users, sessions,
refresh_tokens, audit_log, tokens, devices_seen: the tables that grow with the number
of accounts) is a failure: in SQLite "SCAN <table>" (with or without an index: a scan
is a scan), in PostgreSQL "Seq Scan on <table>" or an index scan without a condition.
The statements in ALLOWED read a whole table on purpose, for the reason given: they
are reported but do not fail. Run it on a database filled by tools/dev/bench/bulk.sh
(PostgreSQL's planner picks a sequential scan for a small table whatever its indexes).

Prints one line per statement: ok, SCAN (failure) or allowed, with the plan's
offending line; exits 1 when any statement failed (a scan, or an EXPLAIN error), 2 on
a usage error.
"""
import os
import re
import sqlite3
import subprocess
import sys

BIG = {"users", "sessions", "refresh_tokens", "audit_log", "tokens", "devices_seen"}

# Statements that read a whole big table on purpose; none of them is on the sign-in,
# guard or refresh path.
ALLOWED = {
    "authsvc_users_search": "admin search: LIKE '%text%' on email, username and names "
                            "(authsvc-admin user list, GET /api/admin/users); paged",
    "authsvc_metrics_sessions": "the sessions gauge of /metrics: counts the live "
                                "sessions, at most every 5 s; sessions_expires_at_idx "
                                "(0010) leaves out the ended ones where that is selective",
}

ARG = re.compile(r"%(lld|d|s|%)")


def params(sql, mark):
    """The statement with mark(n) in place of apr_dbd's n-th %s %lld %d, and the
    arguments: the plan of a prepared statement, made before any value is bound."""
    n = [0]

    def sub(m):
        if m.group(1) == "%":
            return "%"
        n[0] += 1
        return mark(n[0])
    text = ARG.sub(sub, sql)
    return text, n[0]


def explain_sqlite(con, sql):
    text, n = params(sql, lambda i: "?")
    return [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + text, ("1",) * n)]


def explain_pgsql(sql, mode="force_generic_plan"):
    # By default the generic plan, the one a prepared statement keeps once PostgreSQL
    # has seen that custom plans are no cheaper; the parameters' types inferred.
    text, n = params(sql, lambda i: "$%d" % i)
    args = "(%s)" % ", ".join(["'1'"] * n) if n else ""
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                         input="SET plan_cache_mode = %s;\n" % mode +
                               "PREPARE p AS %s;\nEXPLAIN EXECUTE p%s;\n" % (text, args),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return out.stdout.splitlines()


def scans(backend, plan):
    """The plan lines that read a whole big table."""
    bad = []
    for i, line in enumerate(plan):
        if backend == "sqlite3":
            m = re.match(r"\s*SCAN (\w+)", line)
            if m and m.group(1) in BIG:
                bad.append(line.strip())
        else:
            m = re.search(r"Seq Scan on (\w+)", line)
            if m and m.group(1) in BIG:
                bad.append(line.strip())
                continue
            # An index scan that reads the whole index: no condition under it.
            m = re.search(r"Index (?:Only )?Scan(?: Backward)? using \w+ on (\w+)", line)
            if m and m.group(1) in BIG:
                depth = len(line) - len(line.lstrip(" ->"))
                cond = False
                for nxt in plan[i + 1:]:
                    if len(nxt) - len(nxt.lstrip(" ->")) <= depth and "->" in nxt:
                        break
                    if "Index Cond" in nxt:
                        cond = True
                        break
                if not cond:
                    bad.append(line.strip())
    return bad


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("sqlite3", "pgsql") or \
            (sys.argv[2] == "sqlite3" and len(sys.argv) < 4):
        print(__doc__, file=sys.stderr)
        return 2
    backend = sys.argv[2]
    con = sqlite3.connect(sys.argv[3]) if backend == "sqlite3" else None
    failed = allowed = ok = 0
    with open(sys.argv[1]) as f:
        for line in f:
            label, sql = line.rstrip("\n").split("\t", 1)
            try:
                plan = explain_sqlite(con, sql) if con else explain_pgsql(sql)
            except Exception as e:  # noqa: BLE001 - report and go on
                print("ERROR   %s: %s" % (label, e))
                failed += 1
                continue
            bad = scans(backend, plan)
            if bad and not con and not scans(backend, explain_pgsql(sql, "force_custom_plan")):
                # PostgreSQL keeps planning such a statement for its values: the generic
                # plan is used only when it costs no more than the custom ones did.
                ok += 1
                print("ok      %s (custom plans; the generic one would scan: %s)"
                      % (label, "; ".join(bad)))
            elif not bad:
                ok += 1
                print("ok      %s" % label)
            elif label in ALLOWED:
                allowed += 1
                print("allowed %s: %s (%s)" % (label, "; ".join(bad), ALLOWED[label]))
            else:
                failed += 1
                print("SCAN    %s: %s" % (label, "; ".join(bad)))
    print("%s: %d statements use an index, %d allowed scans, %d failed"
          % (backend, ok, allowed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
