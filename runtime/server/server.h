// `BIN --serve`: the compiled model behind an OpenAI-compatible HTTP API
// (docs/DESIGN.md, "Server").
#ifndef QWENC_SERVER_SERVER_H
#define QWENC_SERVER_SERVER_H

#include "../sampler.h"
#include "../tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace qwenc_rt::server {

struct Config {
  std::string host = "127.0.0.1"; // loopback unless asked
  int port = 8080;                // 0: any free port (printed)
  int parallel = 4;               // sequences decoded together, each with its own KV cache slot
  int ctx = 4096;                 // positions of each slot
  int max_queue = 256;            // requests waiting for a slot; more get 503
  int max_tokens = 4096;          // the most an answer may ask for
  size_t max_body = 4u << 20;     // bytes of a request body
  std::string api_key;            // if set, /v1/* and /metrics need "Authorization: Bearer KEY"
  bool cors = false;
  int timeout_s = 30;             // a client silent this long while sending a request is dropped
  SamplingParams defaults;        // generation_config.json's
  bool verbose = false;
};

/// Serves until SIGINT or SIGTERM; the process's exit status.
int run(const Config &c, const uint8_t *weights, Tokenizer &tok);

/// "[HOST:]PORT" into host and port; false if it is neither.
bool parse_address(const std::string &text, std::string &host, int &port);

} // namespace qwenc_rt::server
#endif
