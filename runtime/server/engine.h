// The server's generation engine: one thread owns the model and runs every
// active sequence. Each sequence has a slot of the KV cache (Session's
// slots). A step is one forward call carrying the decode row of every slot
// that is generating (decode reads the weights once for all of them: B rows
// cost little more than one), then, when a slot is still reading its
// prompt, one chunk of that prompt; so a long prompt never holds the others
// up for more than a chunk. A slot keeps its cached tokens after its request,
// and a new request whose prompt starts with them (a chat going on) is given
// that slot and feeds only the rest.
#ifndef QWENC_SERVER_ENGINE_H
#define QWENC_SERVER_ENGINE_H

#include "../qwenc_runtime.h"
#include "../sampler.h"
#include "../tokenizer.h"
#include "json_schema.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qwenc_rt::server {

/// What a request asks of generation (the OpenAI fields, checked by api.cpp).
struct GenParams {
  SamplingParams sampling;
  float presence_penalty = 0.0f;  // OpenAI: minus this once for each id already generated
  float frequency_penalty = 0.0f; // minus this times the id's count in the answer
  uint64_t seed = 0;
  int max_tokens = 0;             // of the answer; the context may end it sooner
  std::vector<std::string> stop;  // strings that end the answer (not included in it)
  int top_logprobs = -1;          // -1: no logprobs; else the chosen id's and this many alternatives
  bool ignore_eos = false;        // go on past an eos id (vLLM's and llama.cpp's field; benchmarks)
  std::shared_ptr<const Schema> schema; // response_format: the answer is JSON of this schema
};

struct TokenLogprob {
  int32_t id;
  float logprob;
  std::vector<std::pair<int32_t, float>> top;
};

/// What the engine hands a request's connection: text as it is made, then
/// the end.
struct Event {
  std::string text;
  std::vector<TokenLogprob> logprobs; // of the tokens behind text (when asked)
  bool done = false;
  const char *finish_reason = ""; // "stop" or "length" when done
};

/// One request inside the engine.
class Job {
public:
  std::vector<int32_t> prompt;
  GenParams params;
  std::atomic<bool> cancelled{false}; // the client is gone

  /// The next event, waiting up to timeout_ms; false if none came.
  bool next(Event &e, int timeout_ms);
  void push(Event e);

  // Set by the engine, read after the last event.
  int prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

struct Metrics {
  uint64_t requests = 0, cancelled = 0, prompt_tokens = 0, cached_prompt_tokens = 0, generated_tokens = 0;
  uint64_t steps = 0, decode_rows = 0;
  int queued = 0, active = 0, slots = 0;
  double prefill_s = 0, decode_s = 0;
  double recent_decode_tps = 0; // aggregate tokens per second of recent decode steps
  double constrain_s = 0;       // spent masking logits for structured output
};

class Engine {
public:
  /// parallel slots of ctx positions each; at most max_queue requests wait.
  Engine(const uint8_t *weights, const Tokenizer &tok, int ctx, int parallel, int max_queue);
  ~Engine();
  bool start(std::string &error);
  void stop();
  /// Queues a job; false + message if the queue is full or it cannot fit.
  bool submit(const std::shared_ptr<Job> &job, std::string &error);
  Metrics metrics();
  int ctx() const { return ctx_; }

private:
  struct Slot;
  void run();
  void admit();
  void decode_step();
  void prefill_step();
  void choose(Slot &slot, float *logits);
  void finish(Slot &slot, const char *reason);
  void emit(Slot &slot, int32_t id);

  const uint8_t *weights_;
  Tokenizer tok_; // the engine thread's own (encoding keeps caches)
  int ctx_, parallel_, max_queue_;
  Session session_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::thread thread_;
  Metrics m_;
  uint64_t tick_ = 0;
  size_t next_prefill_ = 0;
  std::vector<int32_t> ids_, positions_, row_slots_;
  std::vector<float> raw_; // a logits row kept for logprobs
  std::unique_ptr<TokenMasker> masker_; // made at the first structured request
};

} // namespace qwenc_rt::server
#endif
