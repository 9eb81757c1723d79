"""API tokens: the secret is shown once, never listed, stored only as a hash, and a revoked
token stops working at once."""

import harness
from harness import expect


setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_token_lifecycle(inst):
    r = inst.post(inst.ws("/tokens"), json={"name": "deploy", "scopes": ["channels:read", "channels:write"]})
    t = expect(r, 201)
    secret = t.get("token")
    assert isinstance(secret, str) and secret.startswith("smt_") and len(secret) >= 32, t
    assert t["prefix"] == secret[:12], "prefix %r is not the first 12 characters of the token" % t["prefix"]
    assert t["name"] == "deploy" and sorted(t["scopes"]) == ["channels:read", "channels:write"], t
    assert t["workspace_id"] == inst.wid and t["user_id"] == inst.owner_id, t
    assert t["revoked_at"] is None and "last_used_at" in t, t

    expect(inst.get(inst.ws("/channels"), token=secret), 200)
    ch = expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "by-deploy"}, token=secret), 201)
    expect(inst.get(inst.ws("/members"), token=secret), 403, "insufficient_scope")
    expect(inst.get(inst.ws("/tokens"), token=secret), 403, "insufficient_scope")

    listing = inst.get(inst.ws("/tokens?limit=200"))
    doc = expect(listing, 200)
    assert secret not in listing.text, "the token list contains the secret"
    assert secret[12:] not in listing.text, "the token list contains the secret's tail"
    assert inst.token not in listing.text, "the token list contains the CLI token's secret"
    mine = [x for x in doc["items"] if x["id"] == t["id"]]
    assert mine and "token" not in mine[0], "listed token: %r" % mine
    assert mine[0]["prefix"] == t["prefix"] and mine[0]["revoked_at"] is None, mine

    expect(inst.delete(inst.ws("/tokens/%d" % t["id"])), 204)
    expect(inst.get(inst.ws("/channels"), token=secret), 401, "unauthorized")
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"]), token=secret), 401, "unauthorized")
    doc = expect(inst.get(inst.ws("/tokens?limit=200")), 200)
    mine = [x for x in doc["items"] if x["id"] == t["id"]]
    assert mine and mine[0]["revoked_at"], "a revoked token must stay listed with revoked_at: %r" % mine
    expect(inst.delete(inst.ws("/tokens/999999")), 404, "not_found")
    # the owner's own token still works
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"])), 204)


def test_tokens_are_stored_as_hashes(inst):
    t = expect(inst.post(inst.ws("/tokens"), json={"name": "hashed", "scopes": ["*"]}), 201)
    expect(inst.get("/api/v1/me", token=t["token"]), 200)
    for secret, what in ((t["token"], "API-made token"), (inst.token, "CLI-made token")):
        found = harness.db_contains(inst.db, secret)
        assert not found, "the %s is stored in plain text: %s" % (what, found)
        found = harness.db_contains(inst.db, secret[12:])
        assert not found, "the secret part of the %s is stored in plain text: %s" % (what, found)
    assert t["token"] not in inst.server.log_tail(1 << 22), "the server log contains a token"


def test_token_validation(inst):
    path = inst.ws("/tokens")
    expect(inst.post(path, json={"name": "bad", "scopes": ["root"]}), 422, "validation_failed", field="scopes")
    expect(inst.post(path, json={"name": "bad", "scopes": []}), 422, "validation_failed", field="scopes")
    expect(inst.post(path, json={"name": "bad", "scopes": "channels:read"}), 422, "validation_failed", field="scopes")
    expect(inst.post(path, json={"scopes": ["*"]}), 422, "validation_failed", field="name")
    doc = expect(inst.get(path + "?limit=200"), 200)
    assert "bad" not in [x["name"] for x in doc["items"]], "an invalid token was stored"


def test_cli_token_list_has_no_secrets(inst):
    p = harness.cli_ok(inst.db, "token", "list")
    assert inst.token not in p.stdout and inst.token[12:] not in p.stdout, "token list prints a secret"
    items = harness.cli_json(inst.db, "token", "list")
    assert isinstance(items, list) and items, items
    assert all("token" not in x for x in items), items
    assert inst.token not in repr(items)


def test_cli_revoke_takes_effect_at_once(inst):
    secret = inst.create_token("cli-revoked", "channels:read")
    expect(inst.get(inst.ws("/channels"), token=secret), 200)
    tid = [t for t in harness.cli_json(inst.db, "token", "list") if t["name"] == "cli-revoked"][0]["id"]
    harness.cli_ok(inst.db, "token", "revoke", tid)
    if harness.ENGINE == "postgres":
        # Another process's revocation reaches the server's cache by NOTIFY, within
        # milliseconds: wait for that (bounded), then it holds.
        harness.wait_until(lambda: inst.get("/api/v1/me", token=secret).status == 401,
                           "the revocation to reach the server", timeout=2, step=0.01)
    expect(inst.get(inst.ws("/channels"), token=secret), 401, "unauthorized")
    expect(inst.get("/api/v1/me", token=secret), 401, "unauthorized")


def test_audit_needs_its_scope(inst):
    secret = inst.create_token("no-audit", "channels:read", "tokens:read")
    expect(inst.get(inst.ws("/audit"), token=secret), 403, "insufficient_scope")
    secret = inst.create_token("audit", "audit:read")
    expect(inst.get(inst.ws("/audit"), token=secret), 200)
