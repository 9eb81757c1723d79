/*
 * chan.h: what the engine needs to call a channel: its connector, its settings parsed and
 * its secret decrypted, in one struct that is opened and closed around the calls. The
 * publisher, the poller and the connect flows use it; the secret is wiped on close.
 */
#ifndef SAM_ENGINE_CHAN_H
#define SAM_ENGINE_CHAN_H

#include "channel/channel.h"
#include "core/core.h"

struct chan {
    const struct channel_ops *ops;  /* NULL for a kind without a connector */
    struct channel_ctx ctx;         /* points into the fields below and at the channel */
    json_t *settings;
    char *secret;
    size_t secret_len;
};

/* Opens ch (borrowed for as long as the chan is used). SAM_EINVAL with a message for
 * people when the settings are not JSON or the secret cannot be decrypted. */
int chan_open(struct core *c, const struct store_channel *ch, long timeout_ms, const char *file_dir, struct chan *out);
void chan_close(struct chan *ch);

/* The channel needs reconnecting: its status becomes 'reconnect' with message (once: a
 * channel already in that state is left as it is), which holds its queue, and the change
 * is audited and logged. */
void chan_mark_reconnect(struct core *c, const struct store_channel *ch, const char *message);

#endif
