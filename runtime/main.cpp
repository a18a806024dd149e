// The command line of a compiled model: chat (interactive or -p), raw token
// ids, tokenizer utilities. Prefill runs the prompt in chunks of max_rows;
// decode feeds one token per step; the KV cache persists across chat turns.
#include "chat.h"
#include "npy.h"
#include "qwenc_runtime.h"
#include "sampler.h"
#include "server/json_schema.h"
#include "server/server.h"
#include "session.h"
#include "thread_pool.h"
#include "tokenizer.h"
#include "weights.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <editline/readline.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace qwenc_rt;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

[[noreturn]] void fail(const std::string &msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

struct Options {
  std::vector<int32_t> prompt_ids;
  bool have_prompt_ids = false;
  std::string prompt, prompt_file, system, tokenize, detokenize, dump_logits;
  bool have_prompt = false, have_system = false, have_tokenize = false, have_detokenize = false;
  bool parse_special = false;  // control tokens typed in messages stay text
  bool verbose_prompt = false; // print each prompt's text and ids
  int max_new = -1; // -1: 128 for ids and -p, up to the context in chat
  int ctx = 0;      // 0: min(max_position_embeddings, 4096)
  uint64_t seed = 0;
  bool have_seed = false;
  bool verbose = false;
  int threads = 0; // 0: one per core
  std::string isa = "auto";
  SamplingParams sampling;
  bool serve = false;
  server::Config server;
  std::vector<int32_t> bench_rows; // --bench-batch: rows per step to time
  std::shared_ptr<const server::Schema> json; // --json, --json-schema: answers are JSON
};

void print_help(const char *argv0) {
  if (kModel.tokenizer_bytes == 0)
    std::printf("usage: %s --prompt-ids 1,2,3 [options]   continue token ids, print generated ids\n"
                "Runs the compiled model %s. It was compiled without tokenizer.json, so it takes\n"
                "token ids only: no chat, -p, -s, --tokenize or --detokenize.\n\n",
                argv0, kModel.name);
  else
    std::printf("usage: %s [options]            chat (reads your messages from stdin)\n"
                "       %s -p \"TEXT\" [options]  answer one message, print only the answer\n"
                "       %s --prompt-ids 1,2,3   continue token ids, print generated ids\n"
                "Runs the compiled model %s.\n\n",
                argv0, argv0, argv0, kModel.name);
  std::printf(
      "  -p, --prompt TEXT     one user message; the answer goes to stdout\n"
      "  -f, --file FILE       the same, with the message read from FILE\n"
      "  -s, --system TEXT     system prompt (default: the chat template's%s%s%s)\n"
      "  --prompt-ids IDS      raw prompt as comma-separated ids (@FILE: read them from FILE);\n"
      "                        generated ids are printed\n"
      "  --parse-special       read control tokens typed in a message (<|im_end|>, ...) as\n"
      "                        control tokens, as transformers' apply_chat_template + encode\n"
      "                        does; by default they are text, so a message cannot forge a turn\n"
      "  --verbose-prompt      print each prompt fed to the model, as text and ids, to stderr\n"
      "  -n, --max-new N       generate at most N tokens (default 128; chat: 1024 per answer)\n"
      "  --greedy              always the most likely token: plain argmax, with no repetition\n"
      "                        penalty unless --repeat-penalty is given\n"
      "  --temp T              temperature (default %g from generation_config.json; 0 = the same as --greedy)\n"
      "  --top-k K             keep the K most likely tokens (default %d; 0 = all)\n"
      "  --top-p P             keep the most likely tokens up to mass P (default %g)\n"
      "  --repeat-penalty R    divide logits of tokens already seen by R (default %g)\n"
      "  --seed S              random seed (default: from the clock); same seed, same text\n"
      "  --ctx N               context length in tokens (default min(%d, 4096))\n"
      "  --dump-logits FILE    with --prompt-ids: float32 logits of every prompt position and\n"
      "                        every generated token fed back, as a .npy array [rows, %d]\n"
      "  --tokenize TEXT       print the ids of TEXT, comma-separated\n"
      "  --detokenize IDS      print the text of comma-separated ids\n"
      "  -t, --threads N       threads for the matrix kernels (default: one per core)\n"
      "  --isa %-15s the kernels' variant (default auto: the fastest this CPU runs;\n"
      "                        x86-64-avx2: avx2 runs AVX2 where AVX-512 VNNI is there too;\n"
      "                        aarch64: neon runs base NEON where dot product is there too)\n"
      "  --json                answers are JSON objects (sampling masked to valid JSON)\n"
      "  --json-schema FILE    answers are JSON valid under the schema in FILE (object, array,\n"
      "                        string, number, integer, boolean, null, enum, const, anyOf, $ref)\n"
      "  -v, --verbose         print the prompt's token count and the kernels' instructions\n"
      "  -h, --help            this text\n\n"
      "Server (OpenAI-compatible API at /v1, a chat page at /):\n"
      "  --serve [HOST:]PORT   serve HTTP (default 127.0.0.1:8080; port 0 picks a free one);\n"
      "                        --ctx is each sequence's context, sampling options are the defaults\n"
      "  --parallel N          sequences decoded together, each with its own KV cache (default 4)\n"
      "  --api-key KEY         require \"Authorization: Bearer KEY\" on /v1 and /metrics\n"
      "  --max-tokens N        the longest answer a request may ask for (default 4096)\n"
      "  --max-body BYTES      the largest request body (default 4194304)\n"
      "  --cors                allow requests from pages of other origins\n"
      "  --timeout S           drop a client silent for S seconds while sending a request (default 30)\n"
      "  --bench-batch ROWS    time the forward pass of a decode step of ROWS sequences at once (e.g.\n"
      "                        1,2,4,8: the server's batched decode); prints ms per step and tok/s\n\n"
      "Sampling defaults come from generation_config.json (do_sample=%s).\n"
      "Chat: a line ending in \\ continues the message on the next line, as does pasted text;\n"
      "in a terminal, lines can be edited and earlier messages recalled with the arrow keys.\n"
      "Ctrl-C stops the current answer; Ctrl-C at the prompt or end of input leaves the chat.\n"
      "Prefill and decode speed go to stderr.\n",
      *kModel.default_system_prompt ? ": \"" : " default",
      kModel.default_system_prompt, *kModel.default_system_prompt ? "\"" : ", none",
      kModel.temperature, kModel.top_k, kModel.top_p, kModel.repetition_penalty,
      kModel.max_positions, kModel.vocab_size, kModel.isa_choices, kModel.do_sample ? "true" : "false");
}

long parse_int(const std::string &opt, const char *text, long lo, long hi) {
  char *end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < lo || v > hi)
    fail(opt + " needs an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "], got '" + text + "'");
  return v;
}

float parse_float(const std::string &opt, const char *text, float lo, float hi) {
  char *end = nullptr;
  errno = 0;
  float v = std::strtof(text, &end);
  if (errno || end == text || *end != '\0' || !(v >= lo && v <= hi))
    fail(opt + " needs a number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "], got '" + text + "'");
  return v;
}

std::vector<int32_t> parse_ids(const std::string &opt, const std::string &s, long max_id) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    ids.push_back(int32_t(parse_int(opt, item.c_str(), 0, max_id)));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return ids;
}

/// A file given to an option (-f, --prompt-ids @FILE), whole, and not larger
/// than any context could hold (a 128K-token context is well under 4 MiB of
/// text, or of ids).
std::string read_input_file(const std::string &opt, const std::string &path) {
  constexpr long kMaxBytes = 16l << 20;
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    fail(opt + ": " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (long(text.size()) > kMaxBytes) {
      std::fclose(f);
      fail(opt + ": " + path + ": larger than " + std::to_string(kMaxBytes >> 20) + " MiB, more than a context holds");
    }
  }
  const int read_error = std::ferror(f) ? errno : 0; // a folder: EISDIR
  std::fclose(f);
  if (read_error)
    fail(opt + ": " + path + ": " + std::strerror(read_error));
  return text;
}

/// The ids of `--prompt-ids @FILE`: comma- or space-separated, as long as
/// a context (an argument holds at most 128 KiB on Linux: about 20K ids).
std::string read_ids_file(const std::string &opt, const std::string &path) {
  const std::string text = read_input_file(opt, path);
  std::string ids;
  // Runs of commas and white space separate ids.
  bool sep = true;
  for (char c : text) {
    const bool is_sep = c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (is_sep && !sep)
      ids += ',';
    else if (!is_sep)
      ids += c;
    sep = is_sep;
  }
  if (!ids.empty() && ids.back() == ',')
    ids.pop_back();
  if (ids.empty())
    fail(opt + ": " + path + ": no ids in the file");
  return ids;
}

Options parse_options(int argc, char **argv) {
  Options o;
  o.sampling.greedy = !kModel.do_sample;
  o.sampling.temperature = kModel.temperature;
  o.sampling.top_k = kModel.top_k;
  o.sampling.top_p = kModel.top_p;
  o.sampling.repetition_penalty = kModel.repetition_penalty;
  bool explicit_penalty = false, greedy = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc)
        fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      print_help(argv[0]);
      std::exit(0);
    } else if (a == "--prompt-ids") {
      const char *v = value();
      o.prompt_ids = parse_ids(a, v[0] == '@' ? read_ids_file(a, v + 1) : std::string(v), kModel.vocab_size - 1);
      o.have_prompt_ids = true;
    } else if (a == "-p" || a == "--prompt") {
      o.prompt = value();
      o.have_prompt = true;
    } else if (a == "-f" || a == "--file") {
      o.prompt_file = value();
    } else if (a == "--parse-special") {
      o.parse_special = true;
    } else if (a == "--verbose-prompt") {
      o.verbose_prompt = true;
    } else if (a == "-s" || a == "--system") {
      o.system = value();
      o.have_system = true;
    } else if (a == "-n" || a == "--max-new") {
      o.max_new = int(parse_int(a, value(), 0, 1 << 30));
    } else if (a == "--greedy") {
      greedy = true;
    } else if (a == "--temp") {
      o.sampling.temperature = parse_float(a, value(), 0.0f, 100.0f);
      o.sampling.greedy = false;
    } else if (a == "--top-k") {
      o.sampling.top_k = int(parse_int(a, value(), 0, kModel.vocab_size));
    } else if (a == "--top-p") {
      o.sampling.top_p = parse_float(a, value(), 1e-6f, 1.0f);
    } else if (a == "--repeat-penalty") {
      o.sampling.repetition_penalty = parse_float(a, value(), 1e-3f, 100.0f);
      explicit_penalty = true;
    } else if (a == "--seed") {
      o.seed = uint64_t(parse_int(a, value(), 0, 0x7fffffffffffffffL));
      o.have_seed = true;
    } else if (a == "--ctx") {
      o.ctx = int(parse_int(a, value(), 1, kModel.max_positions));
    } else if (a == "--dump-logits") {
      o.dump_logits = value();
    } else if (a == "--tokenize") {
      o.tokenize = value();
      o.have_tokenize = true;
    } else if (a == "--detokenize") {
      o.detokenize = value();
      o.have_detokenize = true;
    } else if (a == "-t" || a == "--threads") {
      o.threads = int(parse_int(a, value(), 1, 256));
    } else if (a == "--isa") {
      o.isa = value();
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (a == "--json") {
      o.json = server::Schema::any_object();
    } else if (a == "--json-schema") {
      const std::string path = value();
      std::string error;
      o.json = server::Schema::compile(read_input_file(a, path), error);
      if (!o.json)
        fail("--json-schema: " + path + ": " + error);
    } else if (a == "--serve") {
      o.serve = true;
      std::string addr = i + 1 < argc && argv[i + 1][0] != '-' ? argv[++i] : "127.0.0.1:8080";
      if (!server::parse_address(addr, o.server.host, o.server.port))
        fail("--serve needs [HOST:]PORT (a port from 0 to 65535), got '" + addr + "'");
    } else if (a == "--parallel") {
      o.server.parallel = int(parse_int(a, value(), 1, kModel.max_rows < 64 ? kModel.max_rows : 64));
    } else if (a == "--api-key") {
      o.server.api_key = value();
      if (o.server.api_key.empty())
        fail("--api-key needs a non-empty key");
    } else if (a == "--max-tokens") {
      o.server.max_tokens = int(parse_int(a, value(), 1, kModel.max_positions));
    } else if (a == "--max-body") {
      o.server.max_body = size_t(parse_int(a, value(), 1024, 1l << 30));
    } else if (a == "--cors") {
      o.server.cors = true;
    } else if (a == "--bench-batch") {
      o.bench_rows = parse_ids(a, value(), kModel.max_rows < 64 ? kModel.max_rows : 64);
      for (int32_t r : o.bench_rows)
        if (r < 1)
          fail("--bench-batch needs row counts of at least 1");
    } else if (a == "--timeout") {
      o.server.timeout_s = int(parse_int(a, value(), 1, 3600));
    } else {
      fail("unknown option '" + a + "' (see --help)");
    }
  }
  // Temperature 0 (--temp 0, or a generation_config.json that samples at 0)
  // is --greedy: one rule for every spelling of argmax.
  if (greedy || (!o.sampling.greedy && o.sampling.temperature == 0.0f)) {
    // plain argmax: the configured penalty only if asked for
    o.sampling.greedy = true;
    if (!explicit_penalty)
      o.sampling.repetition_penalty = 1.0f;
  }
  if (o.ctx == 0)
    o.ctx = kModel.max_positions < 4096 ? kModel.max_positions : 4096;
  const bool text_mode =
      o.have_prompt || !o.prompt_file.empty() || o.have_prompt_ids || o.have_tokenize || o.have_detokenize;
  if (o.serve && text_mode)
    fail("--serve answers requests: give no -p, -f, --prompt-ids, --tokenize or --detokenize with it");
  if (!o.bench_rows.empty() && (o.serve || text_mode))
    fail("--bench-batch runs alone: give no --serve, -p, -f, --prompt-ids, --tokenize or --detokenize with it");
  if (!o.bench_rows.empty() && kModel.open_device)
    fail("--bench-batch: a device target decodes one sequence at a time");
  if (!o.dump_logits.empty() && !o.have_prompt_ids)
    fail("--dump-logits goes with --prompt-ids");
  if (o.have_prompt && !o.prompt_file.empty())
    fail("give either -p or -f, not both");
  if (o.have_prompt_ids && (o.have_prompt || !o.prompt_file.empty()))
    fail("give either --prompt-ids or -p/-f, not both");
  return o;
}

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// One generation context: the KV cache, its fill position, and the tokens
/// seen so far (for the repetition penalty).
class Generator {
public:
  Generator(const uint8_t *weights, int ctx, bool all_logits) : all_logits_(all_logits) {
    std::string error;
    if (!open_session(s_, weights, ctx, 1, all_logits ? kModel.max_rows : 1, error))
      fail(error);
    positions_.resize(size_t(kModel.max_rows));
    seen_.reserve(size_t(ctx)); // generating allocates nothing (test/e2e/no-allocation.test)
  }
  int position() const { return pos_; }
  int room() const { return s_.ctx - pos_; }
  int ctx() const { return s_.ctx; }
  /// Forgets the cache: the next feed starts at position 0.
  void reset() {
    pos_ = 0;
    seen_.clear();
    last_ = nullptr;
  }
  NpyWriter *dump = nullptr;

  /// Runs ids through the model; false (nothing run) if they do not fit.
  /// `interruptible`: Ctrl-C stops it between two chunks (false, stopped()).
  bool feed(const int32_t *ids, int n, bool interruptible = false) {
    stopped_ = false;
    if (n > room())
      return false;
    for (int start = 0; start < n; start += kModel.max_rows) {
      if (interruptible && g_interrupted) {
        seen_.insert(seen_.end(), ids, ids + start);
        stopped_ = true;
        return false;
      }
      int rows = n - start < kModel.max_rows ? n - start : kModel.max_rows;
      for (int r = 0; r < rows; ++r)
        positions_[size_t(r)] = pos_ + r;
      model_forward(s_, ids + start, positions_.data(), rows, all_logits_);
      if (dump)
        dump->append_rows(s_.logits, rows);
      last_ = all_logits_ ? s_.logits + size_t(rows - 1) * kModel.vocab_size : s_.logits;
      pos_ += rows;
    }
    seen_.insert(seen_.end(), ids, ids + n);
    return true;
  }
  float *logits() { return last_; }
  int32_t next(const SamplingParams &p, Rng &rng) {
    return sample_next(last_, kModel.vocab_size, seen_, p, rng);
  }
  bool stopped() const { return stopped_; }

private:
  Session s_;
  bool all_logits_;
  int pos_ = 0;
  bool stopped_ = false;
  float *last_ = nullptr;
  std::vector<int32_t> positions_, seen_;
};

struct Stats {
  long prefill_tokens = 0, decode_tokens = 0;
  double prefill_s = 0, decode_s = 0;
  void print() const {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::fprintf(stderr, "prefill: %ld tokens in %.3f s (%.1f tok/s); decode: %ld tokens in %.3f s (%.1f tok/s); "
                         "peak RSS %.1f MB\n",
                 prefill_tokens, prefill_s, prefill_s > 0 ? prefill_tokens / prefill_s : 0.0,
                 decode_tokens, decode_s, decode_s > 0 ? decode_tokens / decode_s : 0.0,
                 ru.ru_maxrss / 1024.0);
  }
};

/// What generate() made: the generated ids (an eos id included), whether the
/// context filled up, and whether the last id is in the KV cache already.
struct Generated {
  std::vector<int32_t> ids;
  bool context_full = false;
  bool last_fed = false;
  bool prefill_stopped = false; // Ctrl-C during the prompt: part of it is in the cache
};

/// Prefills `prompt`, then generates until an eos id, max_new tokens, a full
/// context or Ctrl-C; `emit` gets each generated id.
template <typename Emit>
Generated generate(Generator &g, const std::vector<int32_t> &prompt, int max_new, const SamplingParams &p,
                   Rng &rng, Stats &st, Emit emit, server::JsonConstraint *json = nullptr) {
  Generated r;
  std::vector<int32_t> &out = r.ids;
  out.reserve(size_t(max_new < g.room() + 1 ? max_new : g.room() + 1));
  auto t0 = Clock::now();
  if (!g.feed(prompt.data(), int(prompt.size()), /*interruptible=*/true)) {
    r.prefill_stopped = g.stopped();
    r.context_full = !r.prefill_stopped;
    return r;
  }
  auto t1 = Clock::now();
  st.prefill_tokens += long(prompt.size());
  st.prefill_s += seconds(t0, t1);
  while (int(out.size()) < max_new && !g_interrupted) {
    int32_t id = -1;
    if (json) // --json: a masked choice, or the completion forced as the tokens run out
      id = json->prepare(g.logits(), kModel.vocab_size, std::min(max_new - int(out.size()), g.room() + 1),
                         kModel.eos_ids, kModel.num_eos_ids);
    if (id < 0)
      id = g.next(p, rng);
    out.push_back(id);
    r.last_fed = false;
    emit(id);
    if (is_eos(id) || int(out.size()) == max_new || (json && json->accept(id)))
      break;
    if (!g.feed(&id, 1)) {
      r.context_full = true;
      break;
    }
    r.last_fed = true;
    ++st.decode_tokens;
  }
  st.decode_s += seconds(t1, Clock::now());
  return r;
}

std::vector<int32_t> encode_or_fail(Tokenizer &tok, const std::string &text, const char *what) {
  std::vector<int32_t> ids;
  std::string err;
  if (!tok.encode(text, ids, err))
    fail(std::string(what) + ": " + err);
  return ids;
}

/// `s` as a JSON string: --verbose-prompt's text can be compared byte for byte.
std::string json_string(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

/// The ids of a chat prompt; with --verbose-prompt its text and ids on stderr.
std::vector<int32_t> encode_prompt(Tokenizer &tok, const ChatPrompt &prompt, const Options &o) {
  std::vector<int32_t> ids;
  std::string err;
  if (!prompt.encode(tok, o.parse_special, ids, err))
    fail("message: " + err);
  if (o.verbose_prompt) {
    std::string list;
    for (size_t i = 0; i < ids.size(); ++i)
      list += (i ? "," : "") + std::to_string(ids[i]);
    std::fprintf(stderr, "prompt text: %s\nprompt ids: %s\n", json_string(prompt.text()).c_str(), list.c_str());
  }
  return ids;
}

void write_stdout(const std::string &s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

int run_prompt_ids(const Options &o, const uint8_t *weights) {
  const long n_prompt = long(o.prompt_ids.size());
  const int max_new = o.max_new < 0 ? 128 : o.max_new;
  const long needed = n_prompt + (max_new > 0 ? max_new - 1 : 0); // last id is not fed
  if (needed > o.ctx)
    fail("the prompt (" + std::to_string(n_prompt) + " tokens) and --max-new " +
         std::to_string(max_new) + " need " + std::to_string(needed) +
         " positions, more than the context of " + std::to_string(o.ctx) + " (raise --ctx, at most " +
         std::to_string(kModel.max_positions) + ")");
  const bool dump = !o.dump_logits.empty();
  Generator g(weights, o.ctx, dump);
  NpyWriter npy;
  if (dump) {
    if (!npy.open(o.dump_logits, kModel.vocab_size))
      fail("cannot write --dump-logits file '" + o.dump_logits + "'");
    g.dump = &npy;
  }
  Rng rng(o.have_seed ? o.seed : uint64_t(Clock::now().time_since_epoch().count()));
  Stats st;
  std::string sep;
  Generated r = generate(g, o.prompt_ids, max_new, o.sampling, rng, st, [&](int32_t id) {
    std::printf("%s%d", sep.c_str(), id);
    std::fflush(stdout);
    sep = ",";
  });
  std::printf("\n");
  std::fflush(stdout);
  if (r.prefill_stopped)
    std::fprintf(stderr, "[stopped during the prompt, after %d of its %zu tokens]\n", g.position(),
                 o.prompt_ids.size());
  if (dump && !npy.close())
    fail("writing --dump-logits file '" + o.dump_logits + "' failed");
  st.print();
  return 0;
}

/// Streams an answer's text; stops printing at an eos id. Keeps the text
/// (the chat's history).
struct TextSink {
  Tokenizer &tok;
  StreamDecoder decoder;
  std::string text;
  explicit TextSink(Tokenizer &t) : tok(t), decoder(t) {}
  void operator()(int32_t id) {
    if (is_eos(id) || tok.is_special(id))
      return;
    out(decoder.push(id));
  }
  void finish() { out(decoder.flush()); }

private:
  void out(const std::string &s) {
    text += s;
    write_stdout(s);
  }
};

/// The message of -f FILE: whole (read_input_file) and valid UTF-8.
std::string read_prompt_file(const std::string &path) {
  const std::string text = read_input_file("-f", path);
  std::string err;
  if (!check_utf8(text, err))
    fail("-f: " + path + ": " + err);
  return text;
}

/// Reads chat messages: in a terminal with line editing and history
/// (libedit), where pasted lines stay one message; otherwise line by line.
class MessageInput {
public:
  MessageInput() : tty_(isatty(STDIN_FILENO)) {}
  /// The next message; false at end of input or Ctrl-C.
  bool next(std::string &message) {
    MessageReader reader;
    std::string line;
    while (true) {
      g_interrupted = 0;
      if (!read_line(reader.continuing() ? ". " : "> ", line) || g_interrupted)
        return false;
      // Lines already waiting in the terminal were pasted with this one.
      if (!reader.add(line, tty_ && input_pending()))
        continue;
      message = reader.take();
      if (!message.empty()) // an empty line is no message
        break;
    }
    if (tty_)
      add_history(message.c_str());
    return true;
  }

private:
  bool read_line(const char *prompt, std::string &line) {
    if (!tty_)
      return bool(std::getline(std::cin, line));
    char *l = readline(prompt);
    if (!l)
      return false;
    line = l;
    std::free(l);
    return true;
  }
  static bool input_pending() {
    pollfd p = {STDIN_FILENO, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
  }
  bool tty_;
};

/// An answer's JSON constraint under --json / --json-schema (null without).
std::unique_ptr<server::JsonConstraint> json_answer(const Options &o, Tokenizer &tok, int max_new) {
  if (!o.json)
    return nullptr;
  static server::TokenMasker masker(tok); // the vocabulary's trie, built once
  std::vector<int32_t> shortest;
  std::string err;
  tok.encode(o.json->shortest(), shortest, err);
  if (int(shortest.size()) > max_new)
    fail("the shortest answer the JSON schema allows is " + std::to_string(shortest.size()) +
         " tokens, more than -n " + std::to_string(max_new));
  return std::make_unique<server::JsonConstraint>(o.json, masker, tok);
}

int run_chat(const Options &o, const uint8_t *weights, Tokenizer &tok) {
  if (tok.added_id("<|im_end|>") < 0)
    fail("the tokenizer has no <|im_end|> token, so it cannot chat; use --prompt-ids");
  std::string err;
  if (o.have_system && !check_utf8(o.system, err))
    fail("-s: " + err);
  if (o.have_prompt && !check_utf8(o.prompt, err))
    fail("-p: " + err);
  // As the template: no system message gets the default one, an empty one
  // an empty system turn.
  std::vector<ChatMessage> first;
  if (o.have_system)
    first.push_back({"system", o.system});
  Generator g(weights, o.ctx, false);
  Rng rng(o.have_seed ? o.seed : uint64_t(Clock::now().time_since_epoch().count()));
  Stats st;

  if (o.have_prompt || !o.prompt_file.empty()) { // one-shot: only the answer on stdout
    first.push_back({"user", o.have_prompt ? o.prompt : read_prompt_file(o.prompt_file)});
    std::vector<int32_t> ids = encode_prompt(tok, render_chat(first, true, kModel.default_system_prompt), o);
    if (o.verbose)
      std::fprintf(stderr, "prompt: %zu tokens\n", ids.size());
    if (int(ids.size()) > o.ctx)
      fail("the prompt is " + std::to_string(ids.size()) + " tokens, more than the context of " +
           std::to_string(o.ctx) + " (raise --ctx)");
    TextSink sink(tok);
    const int max_new = o.max_new < 0 ? 128 : o.max_new;
    std::unique_ptr<server::JsonConstraint> json = json_answer(o, tok, max_new);
    Generated r = generate(g, ids, max_new, o.sampling, rng, st, std::ref(sink), json.get());
    sink.finish();
    write_stdout("\n");
    if (r.prefill_stopped)
      std::fprintf(stderr, "[stopped during the prompt]\n");
    else if (r.context_full)
      std::fprintf(stderr, "note: the answer stopped because the context of %d tokens is full\n", o.ctx);
    else if (max_new > 0 && int(r.ids.size()) == max_new && !is_eos(r.ids.back()) && !json)
      std::fprintf(stderr, "note: the answer was cut at -n %d tokens (raise -n for a longer one)\n", max_new);
    st.print();
    return 0;
  }

  // Interactive: the history stays in the KV cache; each turn feeds only the
  // new tokens (closing the last answer, the user's message, the prompt).
  // An answer is closed in the cache as the template renders a past one:
  // its text (an eos id not included), then <|im_end|>\n.
  //
  // A turn that does not fit the context re-reads the conversation from
  // the start without its oldest turns (the system prompt stays), leaving a
  // quarter of the context (or -n) to answer in: the chat goes on.
  const std::vector<int32_t> close_turn = encode_or_fail(tok, "<|im_end|>\n", "chat");
  std::vector<ChatMessage> conversation = first;
  const size_t kept_always = conversation.size(); // the system message, if given
  // An answer: -n tokens at most, by default 1,024 (the context permitting).
  const int max_new = o.max_new < 0 ? 1024 : o.max_new;
  const int reserve = std::min(max_new, o.ctx / 4);
  bool reread = false; // the cache no longer holds the conversation
  MessageInput input;
  std::string message;
  while (input.next(message)) {
    if (!check_utf8(message, err)) {
      std::fprintf(stderr, "error: message: %s; type it again\n", err.c_str());
      continue;
    }
    conversation.push_back({"user", message});
    std::vector<int32_t> ids;
    if (!reread && g.position() > 0) {
      ChatPrompt prompt;
      prompt.turn("user", message);
      prompt.generation_prompt();
      ids = encode_prompt(tok, prompt, o);
    }
    if (reread || g.position() == 0 || int(ids.size()) >= g.room()) {
      size_t dropped = 0;
      while (true) {
        ids = encode_prompt(tok, render_chat(conversation, true, kModel.default_system_prompt), o);
        if (int(ids.size()) + reserve <= o.ctx || conversation.size() - kept_always <= 1)
          break;
        // The oldest turn: a user message and its answer.
        conversation.erase(conversation.begin() + long(kept_always), conversation.begin() + long(kept_always) + 2);
        ++dropped;
      }
      if (int(ids.size()) >= o.ctx) {
        std::fprintf(stderr, "error: the message makes a prompt of %zu tokens, more than the context of %d; "
                             "type a shorter one (or raise --ctx)\n", ids.size(), o.ctx);
        conversation.pop_back();
        reread = true;
        continue;
      }
      if (g.position() > 0 && dropped > 0)
        std::fprintf(stderr, "[the context of %d tokens is full: dropped the %zu oldest turn%s, re-read the "
                             "remaining %zu tokens]\n",
                     o.ctx, dropped, dropped == 1 ? "" : "s", ids.size());
      else if (g.position() > 0)
        std::fprintf(stderr, "[re-read the conversation: %zu tokens]\n", ids.size());
      g.reset();
      reread = false;
    }
    if (o.verbose)
      std::fprintf(stderr, "[turn: %zu new prompt tokens after %d in the cache]\n", ids.size(),
                   g.position());
    TextSink sink(tok);
    std::unique_ptr<server::JsonConstraint> json = json_answer(o, tok, max_new);
    Generated r = generate(g, ids, max_new, o.sampling, rng, st, std::ref(sink), json.get());
    sink.finish();
    write_stdout("\n");
    if (g_interrupted)
      std::fprintf(stderr, "[stopped]\n");
    if (r.prefill_stopped) { // the message is dropped: the cache holds part of it
      conversation.pop_back();
      reread = true;
      continue;
    }
    conversation.push_back({"assistant", sink.text});
    if (r.context_full) {
      std::fprintf(stderr, "[the context of %d tokens is full: the answer was cut; the next message drops "
                           "the oldest turns]\n", o.ctx);
      reread = true;
      continue;
    }
    if ((!r.ids.empty() && !r.last_fed && !is_eos(r.ids.back()) && !g.feed(&r.ids.back(), 1)) ||
        !g.feed(close_turn.data(), int(close_turn.size())))
      reread = true;
  }
  if (isatty(STDIN_FILENO))
    std::fprintf(stderr, "\n");
  st.print();
  return 0;
}

/// --bench-batch: the forward pass of a decode step of R sequences at once
/// (the server's batched decode), each at a depth of 64 cached tokens, R
/// from the list; rounds interleave the row counts (a noisy machine shifts
/// them alike). Prints the median and range of ms per step over the rounds.
int run_bench_batch(const Options &o, const uint8_t *weights) {
  const int most = *std::max_element(o.bench_rows.begin(), o.bench_rows.end()), depth = 64, steps = 8,
            rounds = 7;
  if (o.ctx < depth + 1)
    fail("--bench-batch needs --ctx of at least " + std::to_string(depth + 1));
  Session s;
  std::string error;
  if (!open_session(s, weights, o.ctx, most, kModel.max_rows, error))
    fail(error);
  std::vector<int32_t> ids(size_t(kModel.max_rows)), positions(ids.size()), slots(ids.size());
  s.row_slots = slots.data();
  for (int slot = 0; slot < most; ++slot) { // each sequence's first 64 tokens
    for (int r = 0; r < depth; ++r) {
      ids[size_t(r)] = int32_t(100 + (slot * 37 + r * 11) % 1000);
      positions[size_t(r)] = r;
      slots[size_t(r)] = slot;
    }
    model_forward(s, ids.data(), positions.data(), depth, false);
  }
  std::vector<std::vector<double>> ms(o.bench_rows.size());
  for (int round = 0; round < rounds; ++round)
    for (size_t i = 0; i < o.bench_rows.size(); ++i) {
      const int rows = o.bench_rows[i];
      for (int r = 0; r < rows; ++r) {
        ids[size_t(r)] = int32_t(200 + r);
        positions[size_t(r)] = depth; // every step writes the same cache row
        slots[size_t(r)] = r;
      }
      model_forward(s, ids.data(), positions.data(), rows, true); // warm
      const Clock::time_point t0 = Clock::now();
      for (int step = 0; step < steps; ++step)
        model_forward(s, ids.data(), positions.data(), rows, true);
      ms[i].push_back(seconds(t0, Clock::now()) * 1e3 / steps);
    }
  double one = 0;
  std::printf("| rows | ms/step, median (range) | tok/s | vs 1 row |\n|---|---|---|---|\n");
  for (size_t i = 0; i < ms.size(); ++i) {
    std::sort(ms[i].begin(), ms[i].end());
    const double med = ms[i][ms[i].size() / 2], tps = o.bench_rows[i] * 1e3 / med;
    if (o.bench_rows[i] == 1)
      one = tps;
    std::printf("| %d | %.2f (%.2f-%.2f) | %.1f | %s |\n", o.bench_rows[i], med, ms[i].front(), ms[i].back(), tps,
                one > 0 ? (std::to_string(tps / one).substr(0, 4) + "x").c_str() : "-");
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // Before any kernel runs: the CPU check of the build's arch.
  const char *error = nullptr;
  if (!kModel.select_kernels(kModel.required_features, "auto", &error))
    fail(error);
  Options o = parse_options(argc, argv);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint; // no SA_RESTART: a pending read returns
  sigaction(SIGINT, &sa, nullptr);

  const uint8_t *weights = map_own_weights(kModel.weight_bytes);
  if (!weights)
    return 1;
  set_num_threads(o.threads);
  const char *variant = kModel.select_kernels(kModel.required_features, o.isa.c_str(), &error);
  if (!variant)
    fail(std::string(error) + (o.isa == "auto" ? "" : " (--isa " + o.isa + "; this executable takes " +
                                                          kModel.isa_choices + ")"));
  if (o.verbose)
    std::fprintf(stderr, "kernels: %s\n", variant);
  if (o.verbose && !kModel.open_device)
    std::fprintf(stderr, "KV cache: %.1f MB for --ctx %d (%s, K and V of %d layers; pages are mapped as it fills)\n",
                 double(kv_cache_bytes(o.ctx)) / 1e6, o.ctx, kv_type_name(), kModel.num_layers);
  if (kModel.open_device && !o.have_tokenize && !o.have_detokenize)
    if (const char *device_error = kModel.open_device(o.ctx, o.verbose))
      fail(device_error);
  if (o.have_prompt_ids)
    return run_prompt_ids(o, weights);
  if (!o.bench_rows.empty())
    return run_bench_batch(o, weights);

  Tokenizer tok;
  std::string err;
  if (kModel.tokenizer_bytes == 0)
    fail("this model was compiled without tokenizer.json: use --prompt-ids (see --help)");
  if (!tok.load(weights + kModel.tokenizer_offset, kModel.tokenizer_bytes, err))
    fail(err);
  if (o.have_tokenize) {
    std::vector<int32_t> ids = encode_or_fail(tok, o.tokenize, "--tokenize");
    for (size_t i = 0; i < ids.size(); ++i)
      std::printf(i ? ",%d" : "%d", ids[i]);
    std::printf("\n");
    return 0;
  }
  if (o.have_detokenize) {
    std::vector<int32_t> ids = parse_ids("--detokenize", o.detokenize, tok.num_ids() - 1);
    for (int32_t id : ids)
      if (!tok.is_valid(id))
        fail("--detokenize: " + std::to_string(id) + " is not a token id");
    write_stdout(decode(tok, ids) + "\n");
    return 0;
  }
  if (o.serve) {
    if (kModel.open_device && o.server.parallel > 1)
      fail("--serve on a device target decodes one sequence at a time: use --parallel 1");
    o.server.ctx = o.ctx;
    o.server.defaults = o.sampling;
    o.server.verbose = o.verbose;
    return server::run(o.server, weights, tok);
  }
  return run_chat(o, weights, tok);
}
