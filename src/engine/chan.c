/* chan.c: opening a channel for a call (see chan.h). */
#include "engine/chan.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int chan_open(struct core *c, const struct store_channel *ch, long timeout_ms, const char *file_dir, struct chan *out)
{
    memset(out, 0, sizeof(*out));
    out->ops = channel_ops_for(ch->kind);
    out->settings = json_loads(ch->settings ? ch->settings : "{}", 0, NULL);
    if(!out->settings || !json_is_object(out->settings)) {
        chan_close(out);
        return sam_fail(SAM_EINVAL, "the settings of channel '%s' are not a JSON object; edit them", ch->name);
    }
    if(ch->secret && core_secret_open(c, ch->secret, ch->secret_len, &out->secret, &out->secret_len)) {
        chan_close(out);
        return sam_fail(SAM_EINVAL, "the secret of channel '%s' cannot be decrypted (was the key file replaced?); "
                                    "enter it again", ch->name);
    }
    out->ctx.channel = ch;
    out->ctx.settings = out->settings;
    out->ctx.secret = out->secret;
    out->ctx.secret_len = out->secret_len;
    out->ctx.file_dir = file_dir;
    out->ctx.timeout_ms = timeout_ms;
    return SAM_OK;
}

void chan_close(struct chan *ch)
{
    if(ch->secret) {
        sodium_memzero(ch->secret, ch->secret_len);
        free(ch->secret);
    }
    json_decref(ch->settings);
    memset(ch, 0, sizeof(*ch));
}

void chan_mark_reconnect(struct core *c, const struct store_channel *ch, const char *message)
{
    struct actor sys = {.system = 1};
    json_t *d;
    char idbuf[32];
    int changed = 0;
    /* One statement: only while the channel is active and still has the credentials the
     * refused call used (someone may have reconnected it meanwhile). */
    if(store_channel_mark_reconnect(c->st, ch, message, time_now(), &changed) || !changed)
        return;
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)ch->id);
    snprintf(sys.label, sizeof(sys.label), "samtale");
    d = json_pack("{s:I, s:s}", "channel_id", (json_int_t)ch->id, "message", message);
    core_audit(c, &sys, ch->workspace_id, "channel.needs_reconnect", ch->name, d);
    json_decref(d);
    log_kv(LOG_WARN, "channel needs reconnecting; its queue waits", "channel", ch->name, "id", idbuf, "reason",
           message, NULL);
}
