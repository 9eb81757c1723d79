"""The publisher against a receiver that fails on purpose (PRODUCT.md P11; issue: the
fault test): 500 and a hang past the timeout are retried, 429 waits as long as
Retry-After says, 400 fails with the receiver's message; nothing is published twice."""

import time

import harness
import peers
from harness import expect

SECRET = "hook-signing-secret"


def setup_module():
    inst = harness.Instance()
    try:
        inst.prepare()
        inst.receiver = peers.Receiver(inst.dir, secret=SECRET, hang_seconds=3)
        inst.start_env = {"SAMTALE_PUBLISH_TIMEOUT_MS": "1000", "SAMTALE_PUBLISH_BACKOFF_S": "1"}
        inst.server = harness.Server(inst.db, inst.dir, env=inst.start_env).start()
        me = expect(inst.get("/api/v1/me"), 200)
        inst.wid = me["token"]["workspace_id"]
        inst.hook = harness.new_channel(inst, "faulty hook", kind="webhook", secret=SECRET,
                                        settings={"url": inst.receiver.url}, max_per_hour=100, max_per_day=1000)
    except BaseException:
        if getattr(inst, "receiver", None):
            inst.receiver.stop()
        inst.close()
        raise
    return inst


def teardown_module(inst):
    try:
        inst.receiver.stop()
    finally:
        inst.close()


def _occurrence(inst, pid):
    return expect(inst.get(inst.ws("/posts/%d" % pid)), 200)["occurrences"][0]


def _publish(inst, text):
    p = expect(inst.post(inst.ws("/posts"), json={"text": text, "channels": [inst.hook["id"]], "schedule": "now"}),
               201)
    return p["id"]


def _wait_state(inst, pid, pred, what):
    return harness.wait_until(lambda: (lambda o: o if pred(o) else None)(_occurrence(inst, pid)), what, timeout=20)


def test_500_is_retried_then_published(inst):
    inst.receiver.control(mode="500", count=1, error="database down")
    pid = _publish(inst, "after a 500")
    first = _wait_state(inst, pid, lambda o: o["attempts"] >= 1 and o["state"] == "scheduled",
                        "a retry to be planned after the 500")
    assert "500" in first.get("error", ""), first
    done = _wait_state(inst, pid, lambda o: o["state"] == "published", "the retry to publish")
    assert done["attempts"] == 2, done


def test_429_waits_as_long_as_retry_after_says(inst):
    inst.receiver.control(mode="429", count=1, retry_after=4, error="slow down")
    t0 = time.time()
    pid = _publish(inst, "after a 429")
    first = _wait_state(inst, pid, lambda o: o["attempts"] >= 1 and o["state"] == "scheduled",
                        "the 429 to be recorded")
    planned = harness.parse_time(first["next_attempt_at"])
    assert planned >= int(t0) + 3, (first, t0)          # 4 s as told (second granularity)
    done = _wait_state(inst, pid, lambda o: o["state"] == "published", "the retry after Retry-After")
    assert harness.parse_time(done["published_at"]) >= planned, done


def test_a_hang_past_the_timeout_is_retried_without_a_second_post(inst):
    before = inst.receiver.stats()
    inst.receiver.control(mode="hang", count=1, seconds=3)
    pid = _publish(inst, "after a hang")
    done = _wait_state(inst, pid, lambda o: o["state"] == "published", "the retry after the timeout")
    assert done["attempts"] >= 2, done
    after = inst.receiver.stats()
    # The receiver took the hung delivery and the retry with the same key: one post.
    assert after["unique_keys"] == before["unique_keys"] + 1, (before, after)
    assert after["duplicates"] >= before["duplicates"] + 1, (before, after)


def test_400_fails_with_the_receivers_message(inst):
    inst.receiver.control(mode="400", count=1, error="text too long for our shop")
    pid = _publish(inst, "refused")
    done = _wait_state(inst, pid, lambda o: o["state"] == "failed", "the 400 to fail the post")
    assert "text too long for our shop" in done.get("error", ""), done
    assert done["attempts"] == 1, done
    post = expect(inst.get(inst.ws("/posts/%d" % pid)), 200)
    assert post["state"] == "failed", post


def test_every_delivery_was_signed(inst):
    stats = inst.receiver.stats()
    assert stats["signatures_bad"] == 0 and stats["signatures_ok"] >= 4, stats


def test_a_failure_is_sent_as_a_post_failed_event(inst):
    events = harness.new_channel(inst, "alerts", kind="webhook", secret=SECRET,
                                 settings={"url": inst.receiver.url.replace("/hook", "/events"),
                                           "events": ["post.failed"]})
    assert events["settings"]["events"] == ["post.failed"]
    inst.receiver.control(mode="400", count=1, error="rejected by the shop")
    pid = _publish(inst, "this one fails")
    done = _wait_state(inst, pid, lambda o: o["state"] == "failed", "the post to fail")

    def event():
        for d in inst.receiver.deliveries():
            if d["path"] == "/events" and '"post.failed"' in d["body"]:
                import json
                ev = json.loads(d["body"])
                if ev["post_id"] == pid:
                    return ev, d
        return None
    ev, d = harness.wait_until(event, "the post.failed event at the receiver")
    assert ev["occurrence_id"] == done["id"] and "rejected by the shop" in ev["error"], ev
    assert ev["channel_id"] == inst.hook["id"] and ev["channel"] == "faulty hook", ev
    assert d["signature_ok"] is True, d
    expect(inst.post(inst.ws("/channels"), json={"kind": "webhook", "name": "bad events",
                                                 "settings": {"url": "https://example.com/x", "events": ["post.sold"]}}),
           422, "validation_failed", field="settings.events")
