-- 0012_approval.sql: approval of posts before they go out (PRODUCT.md P12; the states and
-- who decides: docs/architecture.md, "A post's approval").
--
-- workspaces.approval: whose posts wait for an approver: 'off' (nobody's), 'agents' (agents'
-- posts; owners and editors approve) or 'editors_and_agents' (editors' and agents' posts;
-- owners approve).
--
-- posts.approval: 'none' (the post never needed approval), 'pending' (waiting for a
-- decision), 'changes_requested' (sent back to its author with a note), 'approved' or
-- 'rejected' (then the post is cancelled). The publisher claims occurrences of 'none' and
-- 'approved' posts only (store_occurrence_claim); those of the others stay planned, so the
-- calendar shows where they would go.
--
-- post_approvals: every step of a post's approval, in order: who (the account, and the
-- label the audit log uses, which also names the operator and API tokens), what, when and
-- with what note. actor_id becomes NULL when the account is removed; actor stays.
ALTER TABLE workspaces ADD COLUMN approval TEXT NOT NULL DEFAULT 'off'
    CHECK (approval IN ('off', 'agents', 'editors_and_agents'));

ALTER TABLE posts ADD COLUMN approval TEXT NOT NULL DEFAULT 'none'
    CHECK (approval IN ('none', 'pending', 'changes_requested', 'approved', 'rejected'));

-- The approval queue of a workspace: its pending posts in id order.
CREATE INDEX posts_approval ON posts(workspace_id, approval, id);

CREATE TABLE post_approvals (
    id            {{id}},
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id       BIGINT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    action        TEXT NOT NULL
                  CHECK (action IN ('submitted', 'resubmitted', 'approved', 'changes_requested', 'rejected')),
    actor_id      BIGINT REFERENCES users(id) ON DELETE SET NULL,
    actor         TEXT NOT NULL,
    note          TEXT,
    at            BIGINT NOT NULL
);
CREATE INDEX post_approvals_post ON post_approvals(post_id, id);
-- The decisions on an author's posts, newest first (the dashboard's notice).
CREATE INDEX post_approvals_workspace ON post_approvals(workspace_id, id);
