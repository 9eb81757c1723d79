"""The portable SQL subset of the store (src/store/db.h), checked on the source: every SQL
statement of src/store/sql.c (and the few of src/store/db.c, which run on both engines too)
and the migrations in src/store/migrations. No binary and no database are needed.

A statement is a run of adjacent C string literals and #define'd string macros - column
lists like USER_COLS and MEMBER_SELECT, and function-like ones like MAIL_CLAIM(lock) -
expanded and concatenated the way the compiler does (#define/#undef in the order of the
file), that starts with SELECT, INSERT, UPDATE, DELETE, WITH (or PRAGMA, REPLACE, CREATE,
...). The two texts of a DB_VARIANT(c, sqlite_sql, postgres_sql) are two statements, each
of its engine. Each violation is reported as `sql.c:LINE: RULE: why` and the statement's
first 80 characters.

The rules:

1. Parameters are numbered: ?N only. No bare ?, no ?0, no $N, no :name or @name (text
   inside '...' is not looked at).

2. No construct of one engine only (FORBIDDEN below): SQLite's INSERT OR, REPLACE INTO,
   last_insert_rowid, datetime()/strftime()/julianday(), ifnull, iif(, GLOB, PRAGMA (the
   drivers may use it, sql.c may not), rowid, group_concat, COLLATE, two-argument min/max,
   LIMIT a, b; PostgreSQL's :: casts, ILIKE, now(), greatest/least, FOR UPDATE, SKIP LOCKED,
   ARRAY[...], ANY(...), string_agg, INTERVAL; `IS ?N` (PostgreSQL cannot compare a
   parameter with IS); and what the two run differently: LIKE (case-blind on SQLite, not
   on PostgreSQL), TRUE/FALSE (booleans are 0/1 integers), CURRENT_TIMESTAMP (instants are
   int64 bound from C), RETURNING *, -> / ->>. A construct of one engine is allowed in that
   engine's text of a DB_VARIANT (FOR UPDATE ... SKIP LOCKED in the PostgreSQL one).

3. RETURNING names its table. A RETURNING list is either
   (a) written out, every item `table.column` with the statement's own table (INSERT INTO
       t / UPDATE t / DELETE FROM t): `RETURNING users.id`; or
   (b) a #define'd column list (a macro named *_COLS) spliced in right after RETURNING
       (`RETURNING " OCC_COLS`), optionally followed by more plain columns of the same
       table (`RETURNING " MAIL_COLS ", body`). The macro is the list the table's SELECTs
       read, so the row readers stay in step with it; its plain names cannot be ambiguous
       because the statement then may not bring a second table into scope (no top-level
       FROM, USING, JOIN or SELECT in the UPDATE/DELETE/INSERT; a subquery in parentheses,
       like the mail claim's WHERE id IN (SELECT ...), is fine).
   In both forms every column named must exist in that table as the migrations make it.

4. A SELECT that returns a list - one with LIMIT (a subquery's too), or one whose rows
   run_list reads - has an ORDER BY that makes the order total, so both engines return
   and page the rows the same way: its last item is `id` or `x.id` (ASC or DESC). For a
   table without an id column (members, engagement) the ORDER BY must instead hold every
   column of that table's primary key and end with one of them (members' list: ORDER BY
   m.workspace_id, m.user_id). `LIMIT 1` without ORDER BY is allowed only for an existence
   probe whose select list is constants (`SELECT 1 FROM schema_migrations LIMIT 1`).
   An UPDATE ... RETURNING read by run_list comes back in no defined order on either
   engine; the rule applies to the SELECT inside it that picks the rows (the mail claim).

5. Per-engine variants stay few: migration versions that have a NAME.sqlite.sql or
   NAME.postgres.sql file, DB_VARIANT uses, and any other place in sql.c/db.c where SQL is
   chosen by engine (an `if`/`?:` on `drv ==`, db_pg_driver, db_sqlite_driver, drv->name,
   or a variable set from one of those, whose branches hold SQL). The test fails above
   MAX_ENGINE_VARIANTS and prints the list. Every migration version must also exist for
   both engines (a common NAME.sql, or both engine files), an engine pair shares its NAME,
   and the versions start at 1 (they may leave gaps: src/store/db.h).

Also (test_migrations_portable): the common migration files use only {{fragments}} both
drivers define, and no type or construct of one engine ({{id}}, {{blob}}, {{nocase}} are
how the engines' spellings differ; columns are BIGINT or TEXT).

KNOWN_VIOLATIONS lists the violations the current code has, each with why; the test
passes over them and fails on any other, and when one is fixed but its entry is left.
"""

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORE = os.path.join(REPO, "src", "store")
SOURCES = ("sql.c", "db.c", "copy.c")
MIGRATIONS = os.path.join(STORE, "migrations")
ENGINES = ("sqlite", "postgres")

# Per-engine variants counted when this limit was set: no migration pair, three statements
# chosen by engine (DB_VARIANT in the occurrence claim and the mail claim: FOR UPDATE ...
# SKIP LOCKED on PostgreSQL; copy.c's count of tables, from each engine's catalogue). The
# limit is that count + 2: raising it should be a decision.
MAX_ENGINE_VARIANTS = 5

# (rule, file, words every one of which the statement holds) of the violations of the
# current code: reported by the test's author, not hidden. Remove an entry when its
# statement is fixed (the test says so).
KNOWN_VIOLATIONS = {
}

SQL_START = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|ALTER|DROP|VACUUM|ATTACH)\b")

# (pattern, the engine it is of (None: it runs differently on the two), why). A pattern of
# one engine is allowed on that engine's side of a DB_VARIANT.
FORBIDDEN = [
    (r"\bINSERT\s+OR\b", "sqlite", "INSERT OR (SQLite only; use ON CONFLICT)"),
    (r"\bREPLACE\s+INTO\b", "sqlite", "REPLACE INTO (SQLite only; use ON CONFLICT ... DO UPDATE)"),
    (r"\blast_insert_rowid\b", "sqlite", "last_insert_rowid (use RETURNING table.id)"),
    (r"\b(?:datetime|date|time|julianday|unixepoch)\s*\(", "sqlite",
     "a SQLite date function (instants are int64 bound from C)"),
    (r"\bstrftime\b", "sqlite", "strftime (SQLite only)"),
    (r"\bifnull\b", "sqlite", "ifnull (SQLite only; use coalesce)"),
    (r"\biif\s*\(", "sqlite", "iif( (SQLite only; use CASE)"),
    (r"\bGLOB\b", "sqlite", "GLOB (SQLite only)"),
    (r"\bPRAGMA\b", "sqlite", "PRAGMA (only the SQLite driver may)"),
    (r"\browid\b", "sqlite", "rowid (SQLite only)"),
    (r"\bgroup_concat\b", "sqlite", "group_concat (SQLite only)"),
    (r"\bAUTOINCREMENT\b", "sqlite", "AUTOINCREMENT (SQLite only; migrations use {{id}})"),
    (r"\bCOLLATE\b", "sqlite", "COLLATE (the engines' collations differ; compare lower() instead)"),
    (r"\bINDEXED\s+BY\b", "sqlite", "INDEXED BY (SQLite only)"),
    (r"\bLIMIT\s+[^\s,()]+\s*,", "sqlite", "LIMIT a, b (SQLite only; use LIMIT ... OFFSET ...)"),
    (r"\bON\s+CONFLICT\s+(?:REPLACE|IGNORE|ABORT|FAIL|ROLLBACK)\b", "sqlite", "ON CONFLICT <resolution> (SQLite only)"),
    (r"\b(?:typeof|instr|printf|randomblob|zeroblob|total)\s*\(", "sqlite", "a SQLite-only function"),
    (r"\bjson_(?:extract|each|tree|set|insert|replace|remove|group_array|group_object)\b", "sqlite",
     "a SQLite JSON function"),
    (r"::", "postgres", ":: cast (PostgreSQL only; use CAST(x AS T))"),
    (r"\bILIKE\b", "postgres", "ILIKE (PostgreSQL only)"),
    (r"\bnow\s*\(", "postgres", "now() (PostgreSQL only; instants are bound from C)"),
    (r"\b(?:greatest|least)\s*\(", "postgres", "greatest/least (PostgreSQL only; use CASE)"),
    (r"\b(?:string_agg|array_agg|generate_series|to_timestamp|date_trunc|pg_\w+)\b", "postgres",
     "a PostgreSQL-only function"),
    (r"\bARRAY\s*\[", "postgres", "ARRAY[...] (PostgreSQL only)"),
    (r"\b(?:ANY|SOME)\s*\(|[=<>]\s*ALL\s*\(", "postgres", "ANY/ALL(...) (PostgreSQL only; use IN)"),
    (r"\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY)\b", "postgres", "FOR UPDATE/SHARE (PostgreSQL only: a DB_VARIANT)"),
    (r"\bSKIP\s+LOCKED\b|\bNOWAIT\b", "postgres", "SKIP LOCKED/NOWAIT (PostgreSQL only: a DB_VARIANT)"),
    (r"\bDISTINCT\s+ON\b", "postgres", "DISTINCT ON (PostgreSQL only)"),
    (r"\bSIMILAR\s+TO\b", "postgres", "SIMILAR TO (PostgreSQL only)"),
    (r"\bINTERVAL\b", "postgres", "INTERVAL (PostgreSQL only)"),
    (r"\bjsonb?_\w+", "postgres", "a PostgreSQL JSON function"),
    (r"->", None, "-> / ->> (the engines read JSON differently)"),
    (r"\bIS\s+(?:NOT\s+)?\?", None, "IS ?N (PostgreSQL cannot: write (x = ?N OR (x IS NULL AND ?N IS NULL)))"),
    (r"\bLIKE\b", None, "LIKE (case-blind on SQLite, case-sensitive on PostgreSQL)"),
    (r"\b(?:TRUE|FALSE)\b", None, "TRUE/FALSE (booleans are 0/1 integers)"),
    (r"\bCURRENT_(?:TIMESTAMP|DATE|TIME)\b", None, "CURRENT_TIMESTAMP (instants are int64 bound from C)"),
    (r"\bRETURNING\s+\*", None, "RETURNING * (name the table's columns)"),
]
FORBIDDEN = [(re.compile(p, re.I), only, why) for p, only, why in FORBIDDEN]

SQL_WORDS = set("""select from where and or not in is null as case when then else end join left right inner outer
cross on using group by order having limit offset asc desc nulls first last distinct union all exists between like
cast text bigint integer blob bytea insert into values update set delete returning with conflict do nothing
collate filter over partition""".split())


# ---------------------------------------------------------------------------------------
# C source: string literals, macros, statements

class Tok:
    __slots__ = ("kind", "value", "line", "pos", "origin")

    def __init__(self, kind, value, line, pos, origin=None):
        self.kind, self.value, self.line, self.pos, self.origin = kind, value, line, pos, origin

    def __repr__(self):
        return "Tok(%s, %r, %d)" % (self.kind, self.value, self.line)


_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "a": "\a", "?": "?"}


def _unescape(body):
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_ESC.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


OPS = re.compile(r"->|==|!=|<=|>=|&&|\|\||\+\+|--|<<=|>>=|<<|>>|[-+*/%&|^]=|.", re.S)


def c_tokens(text, line0=1, pos0=0):
    """Tokens of C text without comments: ('str', value), ('char'), ('id', name),
    ('num'), ('pp', directive text with continuations joined), ('op', char)."""
    toks, i, line, n = [], 0, line0, len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
            at_line_start = True
            continue
        if ch in " \t\r\f\v":
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
            continue
        if ch == "#" and at_line_start:
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] == "\\":
                    j = k + 1
                    continue
                break
            toks.append(Tok("pp", text[i:k], line, pos0 + i))
            line += text.count("\n", i, k)
            i = k
            continue
        at_line_start = False
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            toks.append(Tok("str", _unescape(text[i + 1:j]), line, pos0 + i))
            i = j + 1
            continue
        if ch == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            toks.append(Tok("char", text[i:j + 1], line, pos0 + i))
            i = j + 1
            continue
        m = re.compile(r"[A-Za-z_]\w*").match(text, i)
        if m:
            toks.append(Tok("id", m.group(0), line, pos0 + i))
            i = m.end()
            continue
        m = re.compile(r"\d[\w.]*").match(text, i)
        if m:
            toks.append(Tok("num", m.group(0), line, pos0 + i))
            i = m.end()
            continue
        m = OPS.match(text, i)
        toks.append(Tok("op", m.group(0), line, pos0 + i))
        i = m.end()
    return toks


class Macro:
    def __init__(self, name, params, body, pos):
        self.name, self.params, self.body, self.pos = name, params, body, pos


class Piece:
    """A string literal of a statement, after macro expansion: its text, and the macro
    whose body holds it (None when it is written at the call site)."""
    __slots__ = ("text", "origin")

    def __init__(self, text, origin):
        self.text, self.origin = text, origin


class Source:
    """One C file: its tokens with the string macros expanded (#define'd column lists,
    function-like macros such as MAIL_CLAIM(lock)), its string runs and SQL statements."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        toks = c_tokens(self.text)
        self.defs = {}      # name -> [(pos, Macro or None for #undef)]
        for t in toks:
            if t.kind != "pp":
                continue
            m = re.match(r"#\s*define\s+([A-Za-z_]\w*)(\(([^)]*)\))?", t.value)
            if m:
                params = [x.strip() for x in m.group(3).split(",")] if m.group(2) else None
                body = t.value[m.end():].replace("\\\n", " \n")
                self.defs.setdefault(m.group(1), []).append(
                    (t.pos, Macro(m.group(1), params, c_tokens(body, t.line), t.pos)))
                continue
            m = re.match(r"#\s*undef\s+([A-Za-z_]\w*)", t.value)
            if m:
                self.defs.setdefault(m.group(1), []).append((t.pos, None))
        self.code = self._expand([t for t in toks if t.kind != "pp"])
        self.runs = self._runs()
        self.statements = [r for r in self.runs if SQL_START.match(r.text)]

    def macro_at(self, name, pos):
        found = None
        for at, mac in self.defs.get(name, ()):
            if at < pos:
                found = mac
        return found

    def _args(self, toks, i):
        """The arguments of a call whose ( is toks[i]: ([token lists], index after ))."""
        args, cur, d = [], [], 0
        while i < len(toks):
            v = toks[i].value if toks[i].kind == "op" else None
            if v == "(":
                d += 1
                if d == 1:
                    i += 1
                    continue
            elif v == ")":
                d -= 1
                if d == 0:
                    args.append(cur)
                    return args, i + 1
            elif v == "," and d == 1:
                args.append(cur)
                cur = []
                i += 1
                continue
            cur.append(toks[i])
            i += 1
        return args, i

    def _expand_macro(self, mac, args, site, depth):
        """The expansion of mac at the call site token site, as string tokens only, or None
        when it is not a string macro."""
        if depth > 20:
            return None
        body = []
        for t in mac.body:
            if t.kind == "id" and mac.params and t.value in mac.params:
                body += args[mac.params.index(t.value)]
            elif t.kind == "str":
                body.append(Tok("str", t.value, site.line, site.pos, mac.name))
            else:
                nt = Tok(t.kind, t.value, site.line, site.pos)
                body.append(nt)
        out = self._expand(body, depth + 1, site.pos)
        if out and all(t.kind == "str" for t in out):
            return out
        return None

    def _expand(self, toks, depth=0, at=None):
        out, i = [], 0
        while i < len(toks):
            t = toks[i]
            if t.kind == "id":
                mac = self.macro_at(t.value, at if at is not None else t.pos)
                if mac is not None and mac.params is None:
                    exp = self._expand_macro(mac, [], t, depth)
                    if exp is not None:
                        out += exp
                        i += 1
                        continue
                elif mac is not None and i + 1 < len(toks) and toks[i + 1].value == "(":
                    args, j = self._args(toks, i + 1)
                    args = [self._expand(a, depth + 1, at if at is not None else t.pos) for a in args]
                    if len(args) == len(mac.params) or (not mac.params[0] and args == [[]]):
                        exp = self._expand_macro(mac, args, t, depth)
                        if exp is not None:
                            out += exp
                            i = j
                            continue
            out.append(t)
            i += 1
        return out

    def _runs(self):
        """Each run of adjacent string literals, as a Statement."""
        out, i, toks = [], 0, self.code
        while i < len(toks):
            if toks[i].kind != "str":
                i += 1
                continue
            j = i
            while j < len(toks) and toks[j].kind == "str":
                j += 1
            out.append(Statement(self, [Piece(t.value, t.origin) for t in toks[i:j]], toks[i].line, i, j))
            i = j
        return out


class Statement:
    def __init__(self, src, pieces, line, tok_start, tok_end):
        self.src, self.pieces, self.line = src, pieces, line
        self.text = "".join(p.text for p in pieces)
        self.tok_start, self.tok_end = tok_start, tok_end
        self.flat = " ".join(self.text.split())
        self.bare = blank_quotes(self.text)

    def where(self):
        return "%s:%d" % (self.src.name, self.line)

    def head(self):
        return self.flat[:80]


def blank_quotes(sql):
    """sql with the inside of '...' and "..." replaced by spaces (lengths kept)."""
    out, q = [], None
    for ch in sql:
        if q:
            if ch == q:
                q = None
                out.append(ch)
            else:
                out.append(" ")
        else:
            if ch in "'\"":
                q = ch
            out.append(ch)
    return "".join(out)


def blank_parens(sql, depth_keep=0):
    """sql with everything nested deeper than depth_keep parentheses replaced by spaces."""
    out, d = [], 0
    for ch in sql:
        if ch == "(":
            d += 1
            out.append(ch if d <= depth_keep + 1 else " ")
            continue
        if ch == ")":
            out.append(ch if d <= depth_keep + 1 else " ")
            d -= 1
            continue
        out.append(ch if d <= depth_keep else " ")
    return "".join(out)


def split_top(text, sep=","):
    parts, d, cur = [], 0, []
    for ch in text:
        if ch == "(":
            d += 1
        elif ch == ")":
            d -= 1
        if ch == sep and d == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


# ---------------------------------------------------------------------------------------
# Migrations: the tables and their columns

def migration_files():
    """{version: {"common": name, "sqlite": name, "postgres": name}} of the migrations."""
    out = {}
    for f in sorted(os.listdir(MIGRATIONS)):
        m = re.match(r"^(\d+)_[^.]+(?:\.(\w+))?\.sql$", f)
        if not m:
            continue
        out.setdefault(int(m.group(1)), {})[m.group(2) or "common"] = f
    return out


def strip_sql_comments(sql):
    out, i, q = [], 0, None
    while i < len(sql):
        ch = sql[i]
        if q:
            out.append(ch)
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
            out.append(ch)
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = len(sql) if j < 0 else j
            continue
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = len(sql) if j < 0 else j + 2
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


CONSTRAINT_WORDS = {"primary", "unique", "check", "foreign", "constraint", "exclude"}


def schema_tables(extra_sql=()):
    """{table: {"columns": [..], "pk": [..]}} from the migrations (the SQLite file where a
    version has one, since the engines' schemas must match anyway) and extra_sql."""
    tables = {}

    def apply(sql):
        sql = strip_sql_comments(sql)
        for stmt in split_top(blank_quotes_keep(sql), ";"):
            s = " ".join(stmt.split())
            m = re.match(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+) \((.*)\)$", s, re.I | re.S)
            if m:
                cols, pk = [], []
                for item in split_top(m.group(2)):
                    words = item.split()
                    if not words:
                        continue
                    if words[0].lower() in CONSTRAINT_WORDS:
                        pm = re.match(r"PRIMARY KEY \(([^)]*)\)", item, re.I)
                        if pm:
                            pk = [c.strip() for c in pm.group(1).split(",")]
                        continue
                    cols.append(words[0])
                    if re.search(r"PRIMARY KEY|\{\{id\}\}", item, re.I):
                        pk = [words[0]]
                tables.setdefault(m.group(1), {"columns": cols, "pk": pk})
                continue
            m = re.match(r"ALTER TABLE (\w+) ADD (?:COLUMN )?(\w+)", s, re.I)
            if m and m.group(1) in tables:
                tables[m.group(1)]["columns"].append(m.group(2))
                continue
            m = re.match(r"ALTER TABLE (\w+) DROP (?:COLUMN )?(\w+)", s, re.I)
            if m and m.group(1) in tables and m.group(2) in tables[m.group(1)]["columns"]:
                tables[m.group(1)]["columns"].remove(m.group(2))
                continue
            m = re.match(r"ALTER TABLE (\w+) RENAME (?:COLUMN )?(\w+) TO (\w+)", s, re.I)
            if m and m.group(1) in tables:
                cols = tables[m.group(1)]["columns"]
                if m.group(2) in cols:
                    cols[cols.index(m.group(2))] = m.group(3)
                continue
            m = re.match(r"ALTER TABLE (\w+) RENAME TO (\w+)", s, re.I)
            if m and m.group(1) in tables:
                tables[m.group(2)] = tables.pop(m.group(1))
                continue
            m = re.match(r"DROP TABLE (?:IF EXISTS )?(\w+)", s, re.I)
            if m:
                tables.pop(m.group(1), None)

    for sql in extra_sql:
        apply(sql)
    for v, files in sorted(migration_files().items()):
        name = files.get("sqlite") or files.get("common") or files.get("postgres")
        with open(os.path.join(MIGRATIONS, name), encoding="utf-8") as f:
            apply(f.read())
    return tables


def blank_quotes_keep(sql):
    """Semicolons inside quotes would split statements: hide them only."""
    out, q = [], None
    for ch in sql:
        if q:
            out.append("\x01" if ch == ";" else ch)
            if ch == q:
                q = None
        else:
            if ch in "'\"":
                q = ch
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------------------------
# what the rules read

def load():
    sources = [Source(os.path.join(STORE, name)) for name in SOURCES]
    creates = [r.text for src in sources for r in src.runs if re.match(r"\s*CREATE TABLE", r.text)]
    return sources, schema_tables(creates)


def where_first(st):
    return "%s:%d" % (st.src.name, st.line)


def call_of(toks, k):
    """(name, index of its open parenthesis) of the innermost call whose arguments hold
    toks[k], else (None, None)."""
    d, b = 0, k - 1
    while b > 0:
        v = toks[b].value if toks[b].kind == "op" else None
        if v == ")":
            d += 1
        elif v == "(":
            if d == 0:
                return (toks[b - 1].value if toks[b - 1].kind == "id" else None), b
            d -= 1
        elif v in (";", "{", "}") and d == 0:
            return None, None
        b -= 1
    return None, None


def matching_paren(toks, i):
    d = 0
    while i < len(toks):
        if toks[i].kind == "op" and toks[i].value == "(":
            d += 1
        elif toks[i].kind == "op" and toks[i].value == ")":
            d -= 1
            if d == 0:
                return i
        i += 1
    return i


def arg_ranges(toks, i):
    """[(start, end)] of the arguments of the call whose ( is toks[i]."""
    out, d, start = [], 0, i + 1
    for k in range(i, len(toks)):
        v = toks[k].value if toks[k].kind == "op" else None
        if v in ("(", "[", "{"):
            d += 1
        elif v in (")", "]", "}"):
            d -= 1
            if d == 0:
                out.append((start, k))
                return out
        elif v == "," and d == 1:
            out.append((start, k))
            start = k + 1
    return out


def engine_of(st):
    """'sqlite' or 'postgres' when the statement is one side of a DB_VARIANT, else None."""
    toks = st.src.code
    k = st.tok_start
    while True:
        name, open_at = call_of(toks, k)
        if name is None:
            return None
        if name == "DB_VARIANT":
            args = arg_ranges(toks, open_at)
            for n, (a, b) in enumerate(args):
                if a <= st.tok_start < b:
                    return {1: "sqlite", 2: "postgres"}.get(n)
            return None
        k = open_at - 1


def prepared_into(st):
    """The variable a statement is prepared into: prep(s, SQL, &q) or prep(s,
    DB_VARIANT(s, A, B), &q)."""
    toks = st.src.code
    k = st.tok_start
    for _ in range(3):
        name, open_at = call_of(toks, k)
        if name is None:
            return None
        if name in ("prep", "db_prep"):
            close = matching_paren(toks, open_at)
            if toks[close - 2].value == "&" and toks[close - 1].kind == "id":
                return toks[close - 1].value, close
            return None
        k = open_at - 1
    return None


CONSUMERS = ("run_list", "db_step", "exec_stmt", "insert_id", "get_one", "db_release")


def read_by_run_list(st):
    """Whether the rows of the statement are read by run_list: the first call after its
    prep that takes its variable (binds aside) is run_list."""
    got = prepared_into(st)
    if not got:
        return False
    var, k = got
    toks = st.src.code
    while k < len(toks):
        t = toks[k]
        if t.kind == "id" and t.value == var and toks[k - 1].value != "&":
            name, _ = call_of(toks, k)
            if name in CONSUMERS:
                return name == "run_list"
        if t.kind == "op" and t.value == "}" and t.pos == st.src.text.rfind("\n", 0, t.pos) + 1:
            return False  # the end of the function (its brace in column 1)
        k += 1
    return False


# ---------------------------------------------------------------------------------------
# the rules

def check_params(st):
    out, b = [], st.bare
    if re.search(r"\?(?!\d)", b):
        out.append("a bare ? (number every parameter: ?1, ?2, ...)")
    if re.search(r"\?0", b):
        out.append("?0 (parameters start at ?1)")
    if re.search(r"\$\d", b):
        out.append("a $N parameter (write ?N; the PostgreSQL driver rewrites it)")
    if re.search(r"(?<![:\w]):[A-Za-z_]", b.replace("::", "  ")):
        out.append("a :name parameter (write ?N)")
    if re.search(r"(?<![\w@])@[A-Za-z_]", b):
        out.append("an @name parameter (write ?N)")
    return [("params", why) for why in out]


def two_arg_minmax(bare):
    for m in re.finditer(r"\b(?:min|max)\s*\(", bare, re.I):
        d, i, commas = 1, m.end(), 0
        while i < len(bare) and d:
            if bare[i] == "(":
                d += 1
            elif bare[i] == ")":
                d -= 1
            elif bare[i] == "," and d == 1:
                commas += 1
            i += 1
        if commas:
            return True
    return False


def check_forbidden(st):
    out = []
    engine = engine_of(st)
    for rx, only, why in FORBIDDEN:
        if only is not None and only == engine:
            continue  # that engine's side of a DB_VARIANT
        if rx.search(st.bare):
            out.append(("portable", why))
    if engine != "sqlite" and two_arg_minmax(st.bare):
        out.append(("portable", "min/max with two arguments (SQLite only; use CASE)"))
    return out


def target_table(bare):
    m = re.match(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", bare, re.I)
    return m.group(1) if m else None


def identifiers(expr):
    """(qualifier or None, name) of the column-like names of an expression: not function
    names, SQL words or numbers."""
    names = []
    for m in re.finditer(r"\b([A-Za-z_]\w*)(?:\s*\.\s*([A-Za-z_]\w*))?(\s*\()?", blank_quotes(expr)):
        q, n, call = m.group(1), m.group(2), m.group(3)
        if n:
            names.append((q, n))
        elif not call and q.lower() not in SQL_WORDS:
            names.append((None, q))
    return names


def check_returning(st, tables):
    b = st.bare
    top = blank_parens(b)
    ms = list(re.finditer(r"\bRETURNING\b", top, re.I))
    if not ms:
        return []
    m, out = ms[-1], []
    table = target_table(b)
    if not table:
        return [("returning", "RETURNING in a statement whose table cannot be told")]
    if table not in tables:
        out.append(("returning", "RETURNING on %s, a table the migrations do not make" % table))
    cols = set(tables.get(table, {}).get("columns", ()))
    ret_at = m.end()
    # the piece the list starts in, and the one RETURNING is written in
    pos, first, kw_piece = 0, None, None
    for piece in st.pieces:
        end = pos + len(piece.text)
        if kw_piece is None and end >= ret_at:
            kw_piece = piece
        if first is None and end > ret_at and piece.text[max(0, ret_at - pos):].strip():
            first = piece
        pos = end
    items_text = st.text[ret_at:].strip().rstrip(";")
    items_text = re.split(r"\bFOR\s+UPDATE\b", items_text, flags=re.I)[0]
    if first is not None and first.origin and first.origin != kw_piece.origin:
        macro = first.origin
        if not macro.endswith("_COLS"):
            out.append(("returning", "RETURNING spliced from %s, which is not a column list (*_COLS)" % macro))
        head = top[:m.start()]
        verb = re.match(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\w+", head, re.I)
        rest = head[verb.end():] if verb else head
        if re.search(r"\b(?:FROM|USING|JOIN)\b", rest, re.I) or re.search(r"\bSELECT\b", rest, re.I):
            out.append(("returning", "RETURNING %s with another table in scope (FROM/USING/JOIN/SELECT): "
                        "qualify its columns" % macro))
        others = ["%s.%s" % (q, name) for q, name in identifiers(items_text) if q is not None and q != table]
        missing = [name for q, name in identifiers(items_text) if q is None and cols and name not in cols]
        if others:
            out.append(("returning", "RETURNING names another table's columns (%s), not %s's"
                        % (", ".join(others), table)))
        if missing:
            out.append(("returning", "RETURNING names columns %s does not have: %s" % (table, ", ".join(missing))))
    else:
        for item in split_top(items_text):
            im = re.fullmatch(r"(\w+)\.(\w+)", item)
            if not im:
                out.append(("returning", "RETURNING item %r is not table.column (nor a *_COLS list)" % item[:40]))
            elif im.group(1) != table:
                out.append(("returning", "RETURNING %s: qualified by %s, not the statement's table %s"
                            % (item, im.group(1), table)))
            elif cols and im.group(2) not in cols:
                out.append(("returning", "RETURNING %s: no such column in %s" % (item, table)))
    return out


def select_scopes(bare):
    """(start, text) of each SELECT of a statement at its own level: from the SELECT to
    the end of its parentheses, deeper parentheses blanked."""
    out = []
    for m in re.finditer(r"\bSELECT\b", bare, re.I):
        d, i = 0, m.start()
        while i < len(bare):
            if bare[i] == "(":
                d += 1
            elif bare[i] == ")":
                if d == 0:
                    break
                d -= 1
            i += 1
        out.append((m.start(), blank_parens(bare[m.start():i])))
    return out


def aliases(scope_text):
    """alias (or table name) -> table, of the FROM and JOINs of one SELECT level."""
    out = {}
    for m in re.finditer(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", scope_text, re.I):
        table, alias = m.group(1), m.group(2)
        out[table] = table
        if alias and alias.lower() not in SQL_WORDS:
            out[alias] = table
    return out


def check_order(st, tables):
    out, b = [], st.bare
    first_select = re.search(r"\bSELECT\b", b, re.I)
    runs_list = read_by_run_list(st)
    for start, scope in select_scopes(b):
        outermost = first_select and start == first_select.start() and re.match(r"\s*(SELECT|WITH)\b", b, re.I)
        lm = re.search(r"\bLIMIT\s+(\S+)", scope, re.I)
        if not (lm or (outermost and runs_list)):
            continue
        om = re.search(r"\bORDER\s+BY\b(.*?)(?=\bLIMIT\b|\bOFFSET\b|\bFOR\s+UPDATE\b|$)", scope, re.I | re.S)
        if not om:
            if lm and lm.group(1) == "1":
                sel = re.match(r"SELECT\s+(.*?)\s+FROM\b", scope, re.I | re.S)
                if sel and all(re.fullmatch(r"\d+|'[^']*'", x) for x in split_top(sel.group(1))):
                    continue  # an existence probe
            out.append(("order-by-total", "a list (%s) without ORDER BY" % ("LIMIT" if lm else "read by run_list")))
            continue
        items = [re.sub(r"\s+(ASC|DESC)\b.*$", "", x, flags=re.I | re.S).strip() for x in split_top(om.group(1))]
        last = items[-1]
        if re.fullmatch(r"(?:\w+\.)?id", last):
            continue
        # a table without an id column: its whole primary key, ending the ORDER BY
        al, ok = aliases(scope), False
        qm = re.fullmatch(r"(?:(\w+)\.)?(\w+)", last)
        if qm:
            qual = qm.group(1)
            tabs = set(al.values())
            table = al.get(qual) if qual else (tabs.pop() if len(tabs) == 1 else None)
            info = tables.get(table)
            if info and "id" not in info["columns"] and info["pk"] and qm.group(2) in info["pk"]:
                named = {xm.group(2) for xm in (re.fullmatch(r"(?:(\w+)\.)?(\w+)", x) for x in items)
                         if xm and xm.group(1) == qual}
                ok = set(info["pk"]) <= named
        if not ok:
            out.append(("order-by-total", "ORDER BY %s does not end with id (nor hold the whole key of a table "
                        "without id)" % ", ".join(items)))
    return out


ENGINE_TEST = re.compile(r"\bdrv\s*[!=]=|[!=]=\s*&?\s*db_(?:pg|sqlite)_driver\b|\bdb_(?:pg|sqlite)_driver\s*[!=]="
                         r"|\bdrv\s*->\s*name\b|\"(?:postgres|postgresql|sqlite)\"")
ENGINE_NAMES = {"postgres", "pg", "is_pg", "is_postgres", "sqlite", "is_sqlite"}


def engine_variants(sources):
    """(where, how, [statement heads]) of each place where SQL is chosen by engine:
    DB_VARIANT(c, A, B), and if/?: on an engine test (or a variable set from one)."""
    out = []
    for src in sources:
        toks = src.code
        text_of = lambda a, b: " ".join('"%s"' % t.value if t.kind == "str" else t.value for t in toks[a:b])
        flags = set(ENGINE_NAMES)
        for i, t in enumerate(toks[:-2]):
            # a variable set from an engine test alone: int pg = c->drv == &db_pg_driver;
            if t.kind == "id" and toks[i + 1].kind == "op" and toks[i + 1].value == "=":
                k = i + 2
                while k < len(toks) and toks[k].value not in (";", ",", "?") and toks[k].kind != "str":
                    k += 1
                if k < len(toks) and toks[k].value == ";" and ENGINE_TEST.search(text_of(i + 2, k)):
                    flags.add(t.value)

        def is_engine(a, b):
            return bool(ENGINE_TEST.search(text_of(a, b))) or \
                any(x.kind == "id" and x.value in flags for x in toks[a:b])

        def stmts_in(a, b):
            return [st for st in src.statements if a <= st.tok_start < b]

        def stmt_end(k):
            """Index after the C statement or block that starts at k."""
            if toks[k].value == "{":
                d = 0
                for j in range(k, len(toks)):
                    if toks[j].kind == "op" and toks[j].value == "{":
                        d += 1
                    elif toks[j].kind == "op" and toks[j].value == "}":
                        d -= 1
                        if d == 0:
                            return j + 1
                return len(toks)
            if toks[k].kind == "id" and toks[k].value == "if":
                j = stmt_end(matching_paren(toks, k + 1) + 1)
                if j < len(toks) and toks[j].value == "else":
                    j = stmt_end(j + 1)
                return j
            d = 0
            for j in range(k, len(toks)):
                v = toks[j].value if toks[j].kind == "op" else None
                if v in ("(", "[", "{"):
                    d += 1
                elif v in (")", "]", "}"):
                    d -= 1
                elif v == ";" and d == 0:
                    return j + 1
            return len(toks)

        for i, t in enumerate(toks):
            if t.kind == "id" and t.value == "DB_VARIANT" and i + 1 < len(toks) and toks[i + 1].value == "(":
                end = matching_paren(toks, i + 1)
                sts = stmts_in(i, end)
                out.append(("%s:%d" % (src.name, t.line), "DB_VARIANT", [x.head() for x in sts]))
            elif t.kind == "id" and t.value == "if" and i + 1 < len(toks) and toks[i + 1].value == "(":
                ce = matching_paren(toks, i + 1)
                if is_engine(i + 2, ce):
                    sts = stmts_in(ce, stmt_end(i))
                    if sts:
                        out.append(("%s:%d" % (src.name, t.line), "if(%s)" % text_of(i + 2, ce),
                                    [x.head() for x in sts]))
            elif t.kind == "op" and t.value == "?":
                b, d = i - 1, 0
                while b > 0:
                    v = toks[b].value if toks[b].kind in ("op", "id") else None
                    if v == ")":
                        d += 1
                    elif v == "(":
                        if d == 0:
                            break
                        d -= 1
                    elif v in (";", "{", "}", ",", "=", "return") and d == 0:
                        break
                    b -= 1
                if not is_engine(b + 1, i):
                    continue
                e, d = i + 1, 0
                while e < len(toks):
                    v = toks[e].value if toks[e].kind == "op" else None
                    if v in ("(", "[", "{"):
                        d += 1
                    elif v in (")", "]", "}"):
                        if d == 0:
                            break
                        d -= 1
                    elif v in (";", ",") and d == 0:
                        break
                    e += 1
                sts = stmts_in(i, e)
                if sts and not any(name == "DB_VARIANT" for name, _ in [call_of(toks, i)]):
                    out.append(("%s:%d" % (src.name, t.line), "%s ? ... : ..." % text_of(b + 1, i),
                                [x.head() for x in sts]))
    return out


def migration_variants():
    """(problems, [(version, files)]) of the per-engine migration files."""
    problems, variants = [], []
    for v, files in sorted(migration_files().items()):
        engine_files = {k: f for k, f in files.items() if k != "common"}
        for k in engine_files:
            if k not in ENGINES:
                problems.append("migration %s: %r is no engine (the drivers are %s)"
                                % (engine_files[k], k, ", ".join(ENGINES)))
        if engine_files:
            variants.append((v, sorted(files.values())))
            stems = {f.split(".")[0] for f in files.values()}
            if len(stems) > 1:
                problems.append("migration %04d: its files have different names: %s"
                                % (v, ", ".join(sorted(files.values()))))
        if "common" not in files and not all(e in files for e in ENGINES):
            problems.append("migration %04d has no file for %s" % (v, ", ".join(e for e in ENGINES if e not in files)))
    # Numbers may leave gaps: db.c applies every migration not yet recorded, in number order,
    # so numbers taken side by side (0011-0013 and 0014) land in whichever order they come.
    versions = sorted(migration_files())
    if not versions or versions[0] != 1:
        problems.append("migration versions do not start at 1: %s" % versions)
    return problems, variants


def fragments_of(driver_file):
    with open(os.path.join(STORE, driver_file), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"_fragment\s*\(\s*const\s+char\s*\*\s*name\s*\)\s*\{(.*?)\n\}", text, re.S)
    return set(re.findall(r"strcmp\s*\(\s*name\s*,\s*\"(\w+)\"", m.group(1) if m else ""))


MIGRATION_FORBIDDEN = [
    (r"\bAUTOINCREMENT\b|\bINTEGER\s+PRIMARY\s+KEY\b|\b(?:BIG|SMALL)?SERIAL\b|\bGENERATED\b", "an id column: use {{id}}"),
    (r"\bBLOB\b|\bBYTEA\b", "a binary column: use {{blob}}"),
    (r"\bCOLLATE\b", "a collation: use {{nocase}} (and lower() in the queries)"),
    (r"::", ":: cast (PostgreSQL only)"),
    (r"\bWITHOUT\s+ROWID\b|\bSTRICT\s*;|\bPRAGMA\b", "SQLite-only table option"),
    (r"\b(?:BOOLEAN|TIMESTAMP|TIMESTAMPTZ|DATE|JSONB?|UUID|REAL|DOUBLE|NUMERIC|SMALLINT|INTEGER|INT|VARCHAR)\b",
     "a type outside the subset (BIGINT, TEXT, {{blob}}; booleans are 0/1 BIGINT, instants BIGINT seconds)"),
    (r"\bCREATE\s+(?:EXTENSION|FUNCTION|TRIGGER|TYPE|DOMAIN|SEQUENCE)\b", "an object one engine lacks"),
]
MIGRATION_FORBIDDEN = [(re.compile(p, re.I), why) for p, why in MIGRATION_FORBIDDEN]


def known(rule, st):
    for k in KNOWN_VIOLATIONS:
        if k[0] == rule and k[1] == st.src.name and all(w in st.flat for w in k[2]):
            return k
    return None


# ---------------------------------------------------------------------------------------
# the tests

def test_sql_rules():
    """Rules 1-4 over every statement of sql.c and db.c."""
    sources, tables = load()
    statements = [st for src in sources for st in src.statements]
    assert len(statements) > 50, "found only %d SQL statements in %s: is the parser broken?" % (
        len(statements), ", ".join(SOURCES))
    assert tables.get("users") and "email" in tables["users"]["columns"], "no users table read from the migrations"
    problems, used = [], set()
    for st in statements:
        for rule, why in check_params(st) + check_forbidden(st) + check_returning(st, tables) + check_order(st, tables):
            k = known(rule, st)
            if k:
                used.add(k)
                continue
            msg = "%s: %s: %s\n        %s" % (st.where(), rule, why, st.head())
            if msg not in problems:   # the two sides of a DB_VARIANT often say the same
                problems.append(msg)
    for k in sorted(set(KNOWN_VIOLATIONS) - used):
        problems.append("KNOWN_VIOLATIONS: no longer found (fixed? then remove the entry): %s %s: %s"
                        % (k[0], k[1], " ... ".join(k[2])))
    assert not problems, "%d violation(s) of the portable SQL subset (src/store/db.h):\n%s" % (
        len(problems), "\n".join(problems))


def test_migrations_portable():
    """The common migration files (NAME.sql) use the subset: named fragments known to both
    drivers for what the engines spell differently, nothing of one engine only."""
    problems = []
    frags = {e: fragments_of("db_%s.c" % ("pg" if e == "postgres" else e)) for e in ENGINES}
    assert all(frags.values()), "no {{fragments}} found in the drivers' fragment functions: %r" % frags
    for v, files in sorted(migration_files().items()):
        for kind, name in sorted(files.items()):
            with open(os.path.join(MIGRATIONS, name), encoding="utf-8") as f:
                sql = strip_sql_comments(f.read())
            for frag in re.findall(r"\{\{(\w*)\}\}", sql):
                for e in ENGINES:
                    if frag not in frags[e] and kind in ("common", e):
                        problems.append("%s: {{%s}} is no fragment of the %s driver" % (name, frag, e))
            if kind != "common":
                continue
            bare = blank_quotes(re.sub(r"\{\{\w*\}\}", " ", sql))
            for rx, why in MIGRATION_FORBIDDEN:
                for m in rx.finditer(bare):
                    line = sql.count("\n", 0, m.start()) + 1
                    problems.append("%s:%d: %s: %s" % (name, line, m.group(0), why))
                    break
    assert not problems, "\n".join(problems)


def test_engine_variants_stay_few():
    """Rule 5: per-engine variants counted and bounded."""
    sources, _ = load()
    problems, mig = migration_variants()
    code = engine_variants(sources)
    listing = ["migration %04d: %s" % (v, ", ".join(files)) for v, files in mig]
    for where, how, heads in code:
        listing.append("%s: %s: %s" % (where, how, " | ".join(h[:70] for h in heads)))
    for where, how, heads in code:
        if how == "DB_VARIANT" and len(heads) != 2:
            problems.append("%s: DB_VARIANT with %d SQL statements found in it (expected the SQLite and the "
                            "PostgreSQL text)" % (where, len(heads)))
    total = len(mig) + len(code)
    if total > MAX_ENGINE_VARIANTS:
        problems.append("%d per-engine variants, more than MAX_ENGINE_VARIANTS = %d (write the SQL once, or raise "
                        "the limit as a decision):\n    %s" % (total, MAX_ENGINE_VARIANTS, "\n    ".join(listing)))
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    # A listing for people: each statement, whether run_list reads it, what the rules say.
    srcs, tbls = load()
    for s in (st for src in srcs for st in src.statements):
        print("%s  %-8s list=%-5s %s" % (s.where(), engine_of(s) or "", read_by_run_list(s), s.head()))
        for r in check_params(s) + check_forbidden(s) + check_returning(s, tbls) + check_order(s, tbls):
            print("    !! %s: %s" % r)
    print(migration_variants())
    for v in engine_variants(srcs):
        print(v)
