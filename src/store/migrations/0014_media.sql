-- 0014_media.sql: images on posts (P16).
--
-- media holds each image of a workspace once, by the SHA-256 (hex) of its stored bytes:
-- the form samtale made of an upload (orientation applied, metadata such as EXIF GPS
-- stripped, at most 4096 pixels a side and 8 MB; core/image.h), never the upload itself.
-- The bytes live in the database, so one backup (or migrate --to) holds the images with
-- the posts that use them, and every worker process of a PostgreSQL installation reads
-- them. type is image/jpeg, image/png or image/gif (an animated GIF: frames > 1).
-- uploaded_at is the last time the bytes were uploaded: an image that no post uses is
-- kept for media_keep_unused_s after it, so a composer can attach what it just uploaded.
--
-- post_media puts images on a post, in order (position 0..3), with their alt text ('' for
-- none). An image in use cannot be deleted (no cascade from media); a post's rows go with
-- the post, and the image with them when nothing else uses it (store_post_delete, and
-- store_media_sweep for the rest).
CREATE TABLE media (
    id            {{id}},
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL,
    type          TEXT NOT NULL CHECK (type IN ('image/jpeg', 'image/png', 'image/gif')),
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    frames        BIGINT NOT NULL DEFAULT 1,
    bytes         BIGINT NOT NULL,
    data          {{blob}} NOT NULL,
    created_by    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    uploaded_at   BIGINT NOT NULL,
    UNIQUE (workspace_id, sha256)
);
CREATE INDEX media_unused ON media(uploaded_at);

CREATE TABLE post_media (
    post_id   BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    media_id  BIGINT NOT NULL REFERENCES media(id),
    alt       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (post_id, position)
);
CREATE INDEX post_media_media ON post_media(media_id);

-- A workspace can require alt text on every image (a post without it is refused).
ALTER TABLE workspaces ADD COLUMN require_alt_text BIGINT NOT NULL DEFAULT 0;
