/*
 * fuzz_jetstream.c: libFuzzer target over the Jetstream event parser
 * (jetstream_parse_event, channel/jetstream.h), which takes every text message the
 * network sends. The input is one message, as received (not NUL-terminated). Every
 * field the parser hands out is read back, so a dangling or unterminated pointer shows
 * up under ASan.
 *
 *   build-asan/fuzz_jetstream -max_total_time=300 tests/fuzz/corpus-jetstream
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel/jetstream.h"
#include "util/buf.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s)
{
    return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jetstream_event ev;
    volatile size_t sink = 0;
    char *copy;
    int rc;

    if(size > 1024 * 1024)
        return 0;
    /* An exact-size heap copy: a read past len is caught. */
    copy = malloc(size ? size : 1);
    if(!copy)
        return 0;
    if(size)
        memcpy(copy, data, size);
    rc = jetstream_parse_event(copy, size, &ev);
    if(rc == SAM_OK) {
        if(ev.time_us <= 0 || !ev.did || strncmp(ev.did, "did:", 4) || !ev.kind_name || !ev.root)
            abort();
        if(ev.kind == JETSTREAM_COMMIT) {
            if(!ev.collection || !*ev.collection || !ev.rkey || !*ev.rkey)
                abort();
            if(ev.operation == JETSTREAM_DELETE) {
                if(ev.record || ev.cid)
                    abort();
            } else if(!json_is_object(ev.record) || !ev.cid) {
                abort();
            }
        } else if(ev.operation != JETSTREAM_OP_NONE) {
            abort();
        }
        sink += touch(ev.did) + touch(ev.kind_name) + touch(ev.collection) + touch(ev.rkey) +
                touch(ev.rev) + touch(ev.cid) + touch(ev.handle) + touch(ev.status);
    } else if(ev.root) {
        abort(); /* a failed parse leaves nothing behind */
    }
    jetstream_event_cleanup(&ev);
    (void)sink;
    free(copy);
    return 0;
}
