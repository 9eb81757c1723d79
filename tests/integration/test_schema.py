"""One schema on two engines: `samtale migrate` on a fresh SQLite database and on a fresh
PostgreSQL database, and the two schemas read back from the engines' catalogs and compared.

Each schema is written out as lines in one form for both engines (below), and the test
fails with a unified diff of the two when they differ. What is compared:

- the tables and views (SQLite's sqlite_* tables left out) and the triggers, by name;
- each table's columns, in order, with their type class (integer, text, blob, real,
  numeric: SQLite's declared type by its affinity rules, PostgreSQL's bigint/integer/
  smallint as integer, text/varchar as text, bytea as blob), NOT NULL, the default
  (quotes and PostgreSQL's ::type casts and parentheses normalised), and how an id is made
  ({{id}}: AUTOINCREMENT on SQLite, an identity on PostgreSQL; a SQLite INTEGER PRIMARY
  KEY without AUTOINCREMENT reuses ids and is told apart);
- the primary key (columns in key order), the UNIQUE constraints (column sets), the
  foreign keys (columns, referenced table and columns, ON DELETE and ON UPDATE), the CHECK
  constraints (the columns they read and the literals in them: PostgreSQL rewrites
  `x IN ('a', 'b')` as `x = ANY (ARRAY['a'::text, 'b'::text])`, so the text itself is not
  compared), and the named indexes (name, UNIQUE, the key columns or normalised
  expressions like lower(email), DESC, the WHERE of a partial index);
- schema_migrations: the same versions, with the same names (less the .sqlite/.postgres
  of a per-engine file).

Collations are not compared: {{nocase}} is COLLATE NOCASE on SQLite and nothing on
PostgreSQL by design (emails are folded to lower case by the store instead).

NOT NULL: a primary key column counts as NOT NULL on both engines. PostgreSQL makes it so;
SQLite, for old compatibility, takes NULL in a primary key column not declared NOT NULL
(other than an INTEGER PRIMARY KEY). The columns where it does are a listed, known
difference (SQLITE_NULLABLE_KEYS); a new one fails the test: declare it NOT NULL.

The test starts its own PostgreSQL cluster in a temporary folder when the run is on
SQLite, or takes a database in the run's cluster (SAMTALE_TEST_PG_DIR) on PostgreSQL, and
stops and removes what it started (by PID, in pgcluster) in a finally.
"""

import difflib
import importlib.util
import os
import re
import shutil
import sqlite3
import sys
import tempfile

import harness
from harness import Skip

# Primary key columns SQLite accepts NULL in (not declared NOT NULL, not an INTEGER PRIMARY
# KEY): a difference from PostgreSQL the migrations have, known and listed here.
# (schema_migrations is made by src/store/db.c, the others by the migrations 0003, 0004.)
SQLITE_NULLABLE_KEYS = {"oauth_pending.state_hash", "login_challenges.token_hash", "schema_migrations.version"}


# ---------------------------------------------------------------------------------------
# normalising

def sqlite_type_class(decl):
    """SQLite's column affinity (https://sqlite.org/datatype3.html, 3.1)."""
    t = (decl or "").upper()
    if "INT" in t:
        return "integer"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "text"
    if "BLOB" in t or not t:
        return "blob"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "real"
    return "numeric"


def pg_type_class(fmt):
    t = fmt.lower()
    if t in ("bigint", "integer", "smallint"):
        return "integer"
    if t == "text" or t.startswith("character varying") or t.startswith("character(") or t == "character" \
            or t.startswith("varchar"):
        return "text"
    if t == "bytea":
        return "blob"
    if t in ("real", "double precision"):
        return "real"
    if t.startswith("numeric"):
        return "numeric"
    return "other:" + t   # boolean, timestamp, json...: nothing on SQLite is like them


_CAST = re.compile(r"::\s*(?:character varying|double precision|timestamp with(?:out)? time zone|[a-z_][a-z0-9_]*)"
                   r"(?:\(\d+(?:,\d+)?\))?(?:\[\])?", re.I)


def strip_outer_parens(s):
    s = s.strip()
    while s.startswith("(") and s.endswith(")"):
        d = 0
        for i, ch in enumerate(s):
            d += ch == "("
            d -= ch == ")"
            if d == 0 and i < len(s) - 1:
                return s
        s = s[1:-1].strip()
    return s


def lower_outside_quotes(s):
    out, q = [], False
    for ch in s:
        if ch == "'":
            q = not q
        out.append(ch if q else ch.lower())
    return "".join(out)


def norm_expr(s, parens=True):
    """An expression (a default, an index key, a partial index's WHERE) in one form:
    casts, double quotes, outer parentheses and extra white space gone, lower case outside
    quotes. parens=False drops every parenthesis (PostgreSQL puts them around each part of
    a WHERE)."""
    if s is None:
        return None
    s = _CAST.sub("", s)
    s = s.replace('"', "")
    s = lower_outside_quotes(s)
    s = re.sub(r"\s+", " ", s).strip()
    s = strip_outer_parens(s)
    # '-1' read back from PostgreSQL's '-1'::integer
    if re.fullmatch(r"'-?\d+(\.\d+)?'", s):
        s = s[1:-1]
    if not parens:
        s = s.replace("(", " ").replace(")", " ")
    s = re.sub(r"\s*([(),])\s*", r"\1", s)
    return re.sub(r"\s+", " ", s).replace(",", ", ").strip()


def check_signature(expr):
    """(sorted literals) of a CHECK expression; its columns come from the catalogs."""
    lits = re.findall(r"'((?:[^']|'')*)'", expr)
    bare = re.sub(r"'(?:[^']|'')*'", " ", _CAST.sub("", expr))
    nums = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", bare)
    return sorted(set("'%s'" % x for x in lits)) + sorted(set(nums), key=lambda n: float(n))


# ---------------------------------------------------------------------------------------
# the SQLite schema

def balanced_after(text, i):
    """The text inside the parentheses that open at or after i (quotes respected)."""
    i = text.index("(", i)
    d, q = 0, None
    for j in range(i, len(text)):
        ch = text[j]
        if q:
            if ch == q:
                q = None
            continue
        if ch in "'\"":
            q = ch
        elif ch == "(":
            d += 1
        elif ch == ")":
            d -= 1
            if d == 0:
                return text[i + 1:j], j + 1
    return text[i + 1:], len(text)


def split_top(text):
    parts, d, cur, q = [], 0, [], None
    for ch in text:
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == "(":
            d += 1
        elif ch == ")":
            d -= 1
        elif ch == "," and d == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return parts


def strip_comments(sql):
    sql = re.sub(r"--[^\n]*", " ", sql)
    return re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)


def sqlite_schema(path):
    lines, nullable_keys = [], set()
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        objs = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%'"
                            " ESCAPE '\\' ORDER BY name").fetchall()
        for typ, name, tbl, sql in objs:
            if typ == "view":
                lines.append("view %s" % name)
            elif typ == "trigger":
                lines.append("trigger %s on %s" % (name, tbl))
        for typ, table, _, sql in objs:
            if typ != "table":
                continue
            sql = strip_comments(sql)
            lines.append("table %s" % table)
            cols = conn.execute("PRAGMA table_xinfo(%s)" % quote(table)).fetchall()
            pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
            rowid_alias = len(pk) == 1 and [c for c in cols if c[1] == pk[0]][0][2].upper() == "INTEGER"
            for cid, cname, ctype, notnull, dflt, pkpos, hidden in cols:
                extra = []
                if rowid_alias and cname == pk[0]:
                    extra.append("auto-id" if re.search(r"\bAUTOINCREMENT\b", sql, re.I)
                                 else "rowid-alias(ids are reused)")
                if hidden in (2, 3):
                    extra.append("generated")
                nn = bool(notnull) or (rowid_alias and cname == pk[0])
                if pkpos and not nn:
                    nullable_keys.add("%s.%s" % (table, cname))
                    nn = True
                lines.append(column_line(table, cid + 1, cname, sqlite_type_class(ctype), nn, norm_expr(dflt), extra))
            if pk:
                lines.append("%s: primary key (%s)" % (table, ", ".join(pk)))
            # unique constraints and named indexes
            for seq, iname, unique, origin, partial in conn.execute("PRAGMA index_list(%s)" % quote(table)):
                keys = [r for r in conn.execute("PRAGMA index_xinfo(%s)" % quote(iname)) if r[5]]
                if origin == "pk":
                    continue
                if origin == "u":
                    lines.append("%s: unique (%s)" % (table, ", ".join(sorted(r[2] for r in keys))))
                    continue
                isql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                                    (iname,)).fetchone()[0]
                m = re.search(r"\bON\s+\"?\w+\"?\s*", isql, re.I)
                inner, end = balanced_after(isql, m.end())
                exprs = split_top(inner)
                parts = []
                for k, r in enumerate(keys):
                    if r[1] >= 0:
                        part = r[2].lower()
                    else:
                        part = norm_expr(re.sub(r"\s+(?:COLLATE\s+\w+|ASC|DESC)\b.*$", "", exprs[k], flags=re.I | re.S))
                    parts.append(part + (" desc" if r[3] else ""))
                where = None
                if partial:
                    wm = re.search(r"\bWHERE\b(.*)$", isql[end:], re.I | re.S)
                    where = norm_expr(wm.group(1), parens=False) if wm else "?"
                lines.append(index_line(table, iname, unique, parts, where))
            for fk in foreign_keys_sqlite(conn, table):
                lines.append(fk)
            for cols_read, sig in sqlite_checks(sql, [c[1] for c in cols]):
                lines.append(check_line(table, cols_read, sig))
        lines += migrations_lines(conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall())
    finally:
        conn.close()
    return sorted(set(lines), key=sort_key), nullable_keys


def quote(name):
    return '"%s"' % name.replace('"', '""')


def foreign_keys_sqlite(conn, table):
    rows = conn.execute("PRAGMA foreign_key_list(%s)" % quote(table)).fetchall()
    groups = {}
    for fid, seq, ref, frm, to, on_update, on_delete, match in rows:
        groups.setdefault(fid, []).append((seq, ref, frm, to, on_update, on_delete))
    out = []
    for fid, items in groups.items():
        items.sort()
        ref = items[0][1]
        to = [x[3] for x in items]
        if any(t is None for t in to):   # REFERENCES t without columns: t's primary key
            pk = sorted((c for c in conn.execute("PRAGMA table_info(%s)" % quote(ref)) if c[5]), key=lambda c: c[5])
            to = [c[1] for c in pk]
        out.append(fk_line(table, [x[2] for x in items], ref, to, items[0][5], items[0][4]))
    return out


def sqlite_checks(sql, columns):
    """(columns read, signature) of each CHECK (...) in a table's CREATE TABLE text (with
    the columns ALTER TABLE ADD COLUMN appended to it)."""
    out, bare = [], re.sub(r"'(?:[^']|'')*'", lambda m: "\x00" * len(m.group(0)), sql)
    for m in re.finditer(r"\bCHECK\s*\(", bare, re.I):
        inner, _ = balanced_after(sql, m.end() - 1)
        inner_bare = re.sub(r"'(?:[^']|'')*'", " ", inner)
        read = sorted({w for w in re.findall(r"\b[A-Za-z_]\w*\b", inner_bare) if w in columns})
        out.append((read, check_signature(inner)))
    return out


# ---------------------------------------------------------------------------------------
# the PostgreSQL schema

PG_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def pg_schema(conn):
    lines = []
    cur = conn.cursor()
    cur.execute("SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
                " AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1")
    rels = cur.fetchall()
    tables = [r for r, k in rels if k in ("r", "p")]
    for r, k in rels:
        if k in ("v", "m"):
            lines.append("view %s" % r)
    cur.execute("SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace")
    for name, tbl in cur.fetchall():
        lines.append("trigger %s on %s" % (name, tbl))
    for table in tables:
        lines.append("table %s" % table)
        cur.execute("SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
                    " pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated"
                    " FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                    " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                    (quote(table),))
        cols = cur.fetchall()
        names = {}
        for pos, (attnum, cname, ctype, notnull, dflt, identity, generated) in enumerate(cols, 1):
            names[attnum] = cname
            extra = []
            if identity == "d" or (dflt and dflt.startswith("nextval(")):
                extra.append("auto-id")
                dflt = None
            elif identity == "a":
                extra.append("auto-id(always: ids cannot be given)")
            if generated:
                extra.append("generated")
                dflt = None
            lines.append(column_line(table, pos, cname, pg_type_class(ctype), bool(notnull), norm_expr(dflt), extra))
        cur.execute("SELECT k.contype, k.conkey, r.relname, k.confkey, k.confdeltype, k.confupdtype,"
                    " pg_get_constraintdef(k.oid), k.confrelid"
                    " FROM pg_constraint k LEFT JOIN pg_class r ON r.oid = k.confrelid"
                    " WHERE k.conrelid = %s::regclass", (quote(table),))
        for contype, conkey, ref, confkey, deltype, updtype, definition, confrelid in cur.fetchall():
            keycols = [names[n] for n in (conkey or [])]
            if contype == "p":
                lines.append("%s: primary key (%s)" % (table, ", ".join(keycols)))
            elif contype == "u":
                lines.append("%s: unique (%s)" % (table, ", ".join(sorted(keycols))))
            elif contype == "f":
                c2 = conn.cursor()
                c2.execute("SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s", (confrelid,))
                refnames = dict(c2.fetchall())
                lines.append(fk_line(table, keycols, ref, [refnames[n] for n in confkey],
                                     PG_ACTIONS[deltype], PG_ACTIONS[updtype]))
            elif contype == "c":
                lines.append(check_line(table, sorted(keycols), check_signature(definition)))
            else:
                lines.append("%s: constraint of kind %s: %s" % (table, contype, definition))
        cur.execute("SELECT i.relname, x.indisunique, x.indnkeyatts, x.indexrelid, pg_get_expr(x.indpred, x.indrelid),"
                    " x.indoption::text"
                    " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                    " WHERE x.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
                    "   WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))",
                    (quote(table),))
        for iname, unique, nkeys, oid, pred, options in cur.fetchall():
            opts = [int(o) for o in options.split()] if options else []
            parts = []
            for k in range(1, nkeys + 1):
                c2 = conn.cursor()
                c2.execute("SELECT pg_get_indexdef(%s, %s, true)", (oid, k))
                part = c2.fetchone()[0]
                part = part.lower() if re.fullmatch(r"\w+", part) else norm_expr(part)
                parts.append(part + (" desc" if k <= len(opts) and opts[k - 1] & 1 else ""))
            lines.append(index_line(table, iname, unique, parts, norm_expr(pred, parens=False) if pred else None))
    cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
    lines += migrations_lines(cur.fetchall())
    return sorted(set(lines), key=sort_key)


# ---------------------------------------------------------------------------------------
# the lines both are written as

def column_line(table, pos, name, tclass, notnull, default, extra):
    return "%s: column %2d %s %s%s%s%s" % (table, pos, name, tclass, " NOT NULL" if notnull else "",
                                          " DEFAULT %s" % default if default is not None else "",
                                          "".join(" [%s]" % e for e in extra))


def fk_line(table, cols, ref, refcols, on_delete, on_update):
    return "%s: foreign key (%s) -> %s(%s) ON DELETE %s ON UPDATE %s" % (
        table, ", ".join(cols), ref, ", ".join(refcols), on_delete.upper(), on_update.upper())


def check_line(table, cols, sig):
    return "%s: check on (%s) with %s" % (table, ", ".join(cols), "{%s}" % ", ".join(sig))


def index_line(table, name, unique, parts, where):
    return "%s: index %s%s (%s)%s" % (table, name, " UNIQUE" if unique else "", ", ".join(parts),
                                      " WHERE %s" % where if where else "")


def migrations_lines(rows):
    return ["~schema_migrations: %04d %s" % (v, re.sub(r"\.(sqlite|postgres)\.sql$", ".sql", n)) for v, n in rows]


def sort_key(line):
    # tables first by name, then their lines; a table's header before its lines
    m = re.match(r"(?:table )?([\w~]+)(:?)", line)
    return (m.group(1), 0 if line.startswith("table ") else 1, line)


# ---------------------------------------------------------------------------------------

def pg_connect(cluster, dbname):
    import psycopg2
    return psycopg2.connect(dbname=dbname, host=cluster.sock, user="postgres")


def test_schema_same_on_both_engines():
    peers = os.path.join(harness.REPO, "tests", "peers")
    if peers not in sys.path:
        sys.path.insert(0, peers)
    import pgcluster
    try:
        pgcluster.bindir()
    except RuntimeError as e:
        raise Skip("needs PostgreSQL: %s" % e)
    if importlib.util.find_spec("psycopg2") is None:
        raise Skip("needs psycopg2 (Debian package python3-psycopg2)")
    work = tempfile.mkdtemp(prefix="samtale-it-schema-")
    own_cluster = cluster = None
    dbname = "schema_%d" % os.getpid()
    try:
        if harness.ENGINE == "postgres":
            cluster = harness.pg_cluster()
        else:
            # a folder of its own: as root, PostgreSQL runs as the postgres user, which
            # must reach it (pgcluster opens it to that user; a parent 0700 would not be)
            own_cluster = cluster = pgcluster.Cluster(tempfile.mkdtemp(prefix="samtale-it-schema-pg-"))
            cluster.start()
        cluster.drop_database(dbname)
        pg_url = cluster.create_database(dbname)
        lite = os.path.join(work, "schema.db")
        for db, env in ((lite, None), (pg_url, {"SAMTALE_SECRET_KEY_FILE": os.path.join(work, "secret.key")})):
            p = harness.run_cli(db, "migrate", env=env, timeout=120)
            assert p.returncode == 0, "`samtale --db %s migrate` exited %d:\n%s%s" % (
                db, p.returncode, p.stdout[-2000:], p.stderr[-2000:])

        lite_lines, nullable_keys = sqlite_schema(lite)
        conn = pg_connect(cluster, dbname)
        try:
            pg_lines = pg_schema(conn)
        finally:
            conn.close()

        problems = []
        assert any(l.startswith("table users") for l in lite_lines), "no users table on SQLite: %r" % lite_lines[:5]
        if lite_lines != pg_lines:
            diff = difflib.unified_diff(lite_lines, pg_lines, "sqlite", "postgres", n=2, lineterm="")
            problems.append("the schemas differ (- SQLite only, + PostgreSQL only):\n" + "\n".join(diff))
        new = nullable_keys - SQLITE_NULLABLE_KEYS
        if new:
            problems.append("primary key columns SQLite takes NULL in (PostgreSQL does not): %s; declare them "
                            "NOT NULL" % ", ".join(sorted(new)))
        gone = SQLITE_NULLABLE_KEYS - nullable_keys
        if gone:
            problems.append("SQLITE_NULLABLE_KEYS lists %s, now NOT NULL or gone: remove them from the list"
                            % ", ".join(sorted(gone)))
        versions = [[int(l.split()[1]) for l in lines if l.startswith("~schema_migrations")]
                    for lines in (lite_lines, pg_lines)]
        if not versions[0]:
            problems.append("schema_migrations is empty on SQLite")
        elif versions[0] != versions[1]:
            problems.append("schema_migrations holds versions %s on SQLite, %s on PostgreSQL" % tuple(versions))
        assert not problems, "\n".join(problems)
    finally:
        if cluster is not None:
            if own_cluster is not None:
                own_cluster.remove()        # stops postgres by its PID, removes the folder
            else:
                cluster.drop_database(dbname)
        shutil.rmtree(work, ignore_errors=True)
