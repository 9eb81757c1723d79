-- 0011_imports.sql: files of posts imported (PRODUCT.md P14, core/csv.c, docs/csv.md).
--
-- An import writes all its posts, their occurrences and audit entries in one transaction,
-- or nothing. A client may name the import (import_key, unique in its workspace); then
-- this row is written in that same transaction, so an import sent again under the same
-- key (a retry after a lost answer, a crash, a double click) finds it and creates nothing
-- twice: it is answered from posts, a JSON list of [line, post id] pairs, one for each row
-- the file made a post of. digest is the BLAKE2b-256 (hex) of the file's bytes: the same
-- key with another file is refused rather than answered with the first file's posts.
CREATE TABLE imports (
    id           {{id}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    import_key   TEXT NOT NULL,
    digest       TEXT NOT NULL,
    posts        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, import_key)
);
