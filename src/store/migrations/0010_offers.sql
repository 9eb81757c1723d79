-- 0010_offers.sql: channel-exclusive offers (P15). A post can carry an offer code for each
-- channel it goes to, unique in its workspace, so an order that names the code tells which
-- channel brought it. The text's {offer} becomes the channel's code when it is published.
-- An offer outlives its channel (attribution needs it later): channel_name keeps the name
-- it had, and channel_id becomes NULL when the channel is removed. code is kept in upper
-- case; it is made of letters A-Z, digits, - and _.
CREATE TABLE offers (
    id            {{id}},
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id       BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    channel_id    BIGINT REFERENCES channels(id) ON DELETE SET NULL,
    channel_name  TEXT NOT NULL,
    code          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, code),
    UNIQUE (post_id, channel_id)
);
CREATE INDEX offers_workspace ON offers(workspace_id, id);
