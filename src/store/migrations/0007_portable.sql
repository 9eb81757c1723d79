-- 0007_portable.sql: the schema becomes one text for SQLite and PostgreSQL (X2).
-- Migrations are written once with named fragments for what the engines spell
-- differently: {{id}} (an id column: AUTOINCREMENT on SQLite, an identity on PostgreSQL),
-- {{blob}} (BLOB, BYTEA) and {{nocase}} (SQLite's ASCII case-blind collation; nothing on
-- PostgreSQL). Integers are BIGINT, which SQLite stores as it stored INTEGER.
--
-- An email is found whatever its ASCII case by lower(email) on both engines; this index
-- keeps that lookup a range read and one account per email on PostgreSQL too.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
