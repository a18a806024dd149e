// The buffers of a compiled model's generation (qwenc_runtime.h's Session),
// sized from kModel: one home for the KV cache's size, shared by the CLI and
// the server.
#ifndef QWENC_SESSION_H
#define QWENC_SESSION_H

#include "qwenc_runtime.h"

#include <cstddef>
#include <string>

namespace qwenc_rt {

/// Bytes of one cached K or V value of the model's --kv-type.
size_t kv_value_bytes();
/// Bytes of one sequence's KV cache at ctx positions (K, V and int8 scales).
size_t kv_cache_bytes(int ctx);
const char *kv_type_name();

/// One of generation_config.json's eos ids.
bool is_eos(int32_t id);

/// Maps s's buffers for `slots` sequences of ctx positions each, with
/// logits for `logit_rows` rows (1, or kModel.max_rows for every row of a
/// call). Pages come zeroed from the kernel and cost memory once touched,
/// so a cache sized for ctx grows as it fills. False + message if the
/// memory cannot be mapped.
bool open_session(Session &s, const uint8_t *weights, int ctx, int slots, int logit_rows, std::string &error);

} // namespace qwenc_rt
#endif
