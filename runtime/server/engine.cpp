#include "engine.h"

#include "../session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

namespace qwenc_rt::server {

using Clock = std::chrono::steady_clock;
static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool Job::next(Event &e, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !events_.empty(); }))
    return false;
  e = std::move(events_.front());
  events_.pop_front();
  return true;
}

void Job::push(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

struct Engine::Slot {
  enum State { Free, Prefill, Decode } state = Free;
  std::shared_ptr<Job> job;
  std::vector<int32_t> cached; // ids in this slot's cache, in order
  size_t fed = 0;              // prompt ids already in the cache
  int32_t pending = -1;        // the last chosen id, to be fed next step
  uint64_t used = 0;           // tick of the last use (least recently used goes first)
  std::vector<int32_t> seen;   // prompt and answer: the repetition penalty's ids
  std::unordered_map<int32_t, int> counts; // the answer's ids: presence and frequency penalties
  std::unique_ptr<Rng> rng;
  std::unique_ptr<StreamDecoder> decoder;
  std::unique_ptr<JsonConstraint> json; // response_format
  std::string held; // text that might begin a stop string
  std::vector<TokenLogprob> held_logprobs;
};

Engine::Engine(const uint8_t *weights, const Tokenizer &tok, int ctx, int parallel, int max_queue)
    : weights_(weights), tok_(tok), ctx_(ctx), parallel_(parallel), max_queue_(max_queue), slots_(size_t(parallel)) {}

Engine::~Engine() { stop(); }

bool Engine::start(std::string &error) {
  if (!open_session(session_, weights_, ctx_, parallel_, kModel.max_rows, error))
    return false;
  ids_.resize(size_t(kModel.max_rows));
  positions_.resize(size_t(kModel.max_rows));
  row_slots_.resize(size_t(kModel.max_rows));
  m_.slots = parallel_;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool Engine::submit(const std::shared_ptr<Job> &job, std::string &error) {
  if (job->prompt.empty()) {
    error = "the prompt is empty";
    return false;
  }
  if (int(job->prompt.size()) >= ctx_) {
    error = "the prompt is " + std::to_string(job->prompt.size()) + " tokens; the context is " +
            std::to_string(ctx_) + " (the server's --ctx)";
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int(queue_.size()) >= max_queue_) {
      error = "the server is busy: " + std::to_string(queue_.size()) + " requests are waiting";
      return false;
    }
    job->prompt_tokens = int(job->prompt.size());
    queue_.push_back(job);
    ++m_.requests;
  }
  cv_.notify_all();
  return true;
}

Metrics Engine::metrics() {
  std::lock_guard<std::mutex> lock(mu_);
  Metrics m = m_;
  m.queued = int(queue_.size());
  return m;
}

/// Queued jobs into free slots: the free slot whose cache shares the
/// longest start with the prompt, else the least recently used one.
void Engine::admit() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty()) {
    Slot *best = nullptr;
    size_t best_common = 0;
    const std::vector<int32_t> &prompt = queue_.front()->prompt;
    for (Slot &s : slots_) {
      if (s.state != Slot::Free)
        continue;
      size_t common = 0;
      while (common < s.cached.size() && common < prompt.size() && s.cached[common] == prompt[common])
        ++common;
      if (!best || common > best_common || (common == best_common && s.used < best->used))
        best = &s, best_common = common;
    }
    if (!best)
      return;
    std::shared_ptr<Job> job = queue_.front();
    queue_.pop_front();
    // At least the prompt's last id is fed: its logits choose the first one.
    const size_t keep = std::min(best_common, prompt.size() - 1);
    Slot &s = *best;
    s.job = job;
    s.cached.resize(keep);
    s.fed = keep;
    s.state = Slot::Prefill;
    s.used = ++tick_;
    s.seen.assign(prompt.begin(), prompt.end());
    s.counts.clear();
    s.rng = std::make_unique<Rng>(job->params.seed);
    s.decoder = std::make_unique<StreamDecoder>(tok_);
    s.held.clear();
    s.held_logprobs.clear();
    s.json.reset();
    if (job->params.schema) {
      if (!masker_)
        masker_ = std::make_unique<TokenMasker>(tok_);
      s.json = std::make_unique<JsonConstraint>(job->params.schema, *masker_, tok_);
    }
    job->cached_tokens = int(keep);
    m_.cached_prompt_tokens += keep;
    m_.prompt_tokens += prompt.size() - keep;
    ++m_.active;
  }
}

void Engine::finish(Slot &s, const char *reason) {
  Event e;
  e.text = std::move(s.held);
  e.logprobs = std::move(s.held_logprobs);
  s.held.clear();
  s.held_logprobs.clear();
  e.done = true;
  e.finish_reason = reason;
  s.job->push(std::move(e));
  s.job.reset();
  s.state = Slot::Free;
  s.pending = -1;
  std::lock_guard<std::mutex> lock(mu_);
  --m_.active;
}

/// The chosen id's text into the answer, held back while it may be the
/// start of a stop string; ends the job at eos, a stop string, max_tokens
/// or a full context.
void Engine::emit(Slot &s, int32_t id) {
  Job &job = *s.job;
  ++job.completion_tokens;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++m_.generated_tokens;
  }
  if (is_eos(id) && !job.params.ignore_eos) {
    s.held += s.decoder->flush();
    finish(s, "stop");
    return;
  }
  if (!tok_.is_special(id))
    s.held += s.decoder->push(id);
  const std::vector<std::string> &stops = job.params.stop;
  size_t cut = std::string::npos;
  for (const std::string &stop : stops) {
    size_t at = s.held.find(stop);
    cut = at < cut ? at : cut;
  }
  if (cut != std::string::npos) {
    s.held.resize(cut);
    finish(s, "stop");
    return;
  }
  const bool last = job.completion_tokens >= job.params.max_tokens || int(s.cached.size()) >= ctx_; // no position left to feed it at
  if (last) {
    s.held += s.decoder->flush();
    finish(s, "length");
    return;
  }
  // Text that could begin a stop string waits for the next id.
  size_t hold = 0;
  for (const std::string &stop : stops)
    for (size_t k = std::min(stop.size() - 1, s.held.size()); k > hold; --k)
      if (s.held.compare(s.held.size() - k, k, stop, 0, k) == 0) {
        hold = k;
        break;
      }
  Event e;
  e.text = s.held.substr(0, s.held.size() - hold);
  e.logprobs = std::move(s.held_logprobs);
  s.held_logprobs.clear();
  s.held.erase(0, s.held.size() - hold);
  if (!e.text.empty() || !e.logprobs.empty())
    job.push(std::move(e));
  s.pending = id;
  s.state = Slot::Decode;
}

/// Chooses the slot's next id from its logits row (changed in place).
void Engine::choose(Slot &s, float *logits) {
  const GenParams &p = s.job->params;
  const int vocab = kModel.vocab_size;
  float lse = 0;
  if (p.top_logprobs >= 0) { // of the model's own distribution, before any penalty or warper
    float mx = -INFINITY;
    for (int i = 0; i < vocab; ++i)
      mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < vocab; ++i)
      sum += std::exp(double(logits[i] - mx));
    lse = mx + float(std::log(sum));
    raw_.assign(logits, logits + vocab);
  }
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f)
    for (const auto &[id, n] : s.counts)
      logits[id] -= p.presence_penalty + p.frequency_penalty * float(n);
  // Ids past the tokenizer's (padding rows of the embedding) are never chosen.
  for (int i = tok_.num_ids(); i < vocab; ++i)
    logits[i] = -INFINITY;
  int32_t id = -1;
  if (s.json) {
    const auto t0 = Clock::now();
    const int left = std::min(p.max_tokens - s.job->completion_tokens, ctx_ - int(s.cached.size()));
    id = s.json->prepare(logits, vocab, left, kModel.eos_ids, kModel.num_eos_ids);
    std::lock_guard<std::mutex> lock(mu_);
    m_.constrain_s += since(t0);
  }
  if (id < 0)
    id = sample_next(logits, vocab, s.seen, p.sampling, *s.rng);
  if (p.top_logprobs >= 0) {
    TokenLogprob t{id, raw_[size_t(id)] - lse, {}};
    if (p.top_logprobs > 0) {
      std::vector<int32_t> order(size_t(tok_.num_ids()));
      for (size_t i = 0; i < order.size(); ++i)
        order[i] = int32_t(i);
      const size_t k = std::min(size_t(p.top_logprobs), order.size());
      std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                        [&](int32_t a, int32_t b) { return raw_[size_t(a)] > raw_[size_t(b)]; });
      for (size_t i = 0; i < k; ++i)
        t.top.emplace_back(order[i], raw_[size_t(order[i])] - lse);
    }
    s.held_logprobs.push_back(std::move(t));
  }
  s.seen.push_back(id);
  ++s.counts[id];
  const bool whole = s.json && s.json->accept(id);
  emit(s, id);
  if (whole && s.job) // the value is complete: nothing may follow
    finish(s, "stop");
}

/// One forward pass for every slot that needs a next id: the decode row of
/// each generating slot (its last id), and the last prompt id of each slot
/// whose prompt is otherwise in the cache (prefill_step leaves it for this
/// step, so that its logits come out with the others').
void Engine::decode_step() {
  int rows = 0;
  Slot *row_slot[256];
  for (size_t i = 0; i < slots_.size() && rows < kModel.max_rows && rows < 256; ++i) {
    Slot &s = slots_[i];
    if (s.state == Slot::Prefill && s.fed + 1 == s.job->prompt.size())
      s.pending = s.job->prompt.back();
    else if (s.state != Slot::Decode)
      continue;
    ids_[size_t(rows)] = s.pending;
    positions_[size_t(rows)] = int32_t(s.cached.size());
    row_slots_[size_t(rows)] = int32_t(i);
    row_slot[rows++] = &s;
  }
  if (rows == 0)
    return;
  const auto t0 = Clock::now();
  session_.row_slots = row_slots_.data();
  model_forward(session_, ids_.data(), positions_.data(), rows, true);
  const double dt = since(t0);
  for (int r = 0; r < rows; ++r) {
    Slot &s = *row_slot[r];
    s.cached.push_back(s.pending);
    if (s.state == Slot::Prefill)
      ++s.fed;
    s.used = ++tick_;
    choose(s, session_.logits + size_t(r) * size_t(kModel.vocab_size));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++m_.steps;
  m_.decode_rows += uint64_t(rows);
  m_.decode_s += dt;
  const double tps = rows / dt;
  m_.recent_decode_tps = m_.recent_decode_tps == 0 ? tps : 0.8 * m_.recent_decode_tps + 0.2 * tps;
}

/// One chunk of prompts: the slots reading theirs, in turn, each up to its
/// last id (which decode_step feeds), together up to a chunk of rows; a
/// short chunk while others decode, so that their next ids are not held up
/// long. Prompts that arrive together are read in one pass over the weights.
void Engine::prefill_step() {
  bool decoding = false;
  for (const Slot &o : slots_)
    decoding = decoding || o.state == Slot::Decode;
  const int chunk = decoding ? std::min(kModel.max_rows, 64) : kModel.max_rows;
  int rows = 0;
  struct Part {
    Slot *slot;
    int rows;
  } parts[256];
  int nparts = 0;
  const size_t first = next_prefill_;
  for (size_t k = 0; k < slots_.size() && rows < chunk; ++k) {
    const size_t index = (first + k) % slots_.size();
    Slot &s = slots_[index];
    if (s.state != Slot::Prefill || s.fed + 1 >= s.job->prompt.size())
      continue;
    const int take = int(std::min(s.job->prompt.size() - 1 - s.fed, size_t(chunk - rows)));
    for (int r = 0; r < take; ++r) {
      ids_[size_t(rows + r)] = s.job->prompt[s.fed + size_t(r)];
      positions_[size_t(rows + r)] = int32_t(s.fed) + r;
      row_slots_[size_t(rows + r)] = int32_t(index);
    }
    parts[nparts++] = {&s, take};
    rows += take;
    next_prefill_ = index + 1;
  }
  if (rows == 0)
    return;
  const auto t0 = Clock::now();
  session_.row_slots = row_slots_.data();
  model_forward(session_, ids_.data(), positions_.data(), rows, false);
  for (int p = 0; p < nparts; ++p) {
    Slot &s = *parts[p].slot;
    const std::vector<int32_t> &prompt = s.job->prompt;
    s.cached.insert(s.cached.end(), prompt.begin() + long(s.fed), prompt.begin() + long(s.fed) + parts[p].rows);
    s.fed += size_t(parts[p].rows);
  }
  std::lock_guard<std::mutex> lock(mu_);
  m_.prefill_s += since(t0);
}

void Engine::run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        if (stopping_ || !queue_.empty())
          return true;
        for (const Slot &s : slots_)
          if (s.state != Slot::Free)
            return true;
        return false;
      });
      if (stopping_)
        break;
    }
    admit();
    for (Slot &s : slots_)
      if (s.state != Slot::Free && s.job->cancelled) {
        // What the cache holds stays valid for a later prompt.
        finish(s, "cancelled");
        std::lock_guard<std::mutex> lock(mu_);
        ++m_.cancelled;
      }
    decode_step();
    prefill_step();
  }
  for (Slot &s : slots_)
    if (s.state != Slot::Free)
      finish(s, "cancelled");
}

} // namespace qwenc_rt::server
