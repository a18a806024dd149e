// The command line of a compiled model: parse options, map the weights,
// prefill the prompt in chunks, then decode one token at a time.
#include "npy.h"
#include "qwenc_runtime.h"
#include "weights.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace qwenc_rt;

namespace {

struct Options {
  std::vector<int32_t> prompt_ids;
  bool have_prompt_ids = false;
  int max_new = 128;
  bool greedy = false;
  int ctx = 0; // 0: min(max_position_embeddings, 4096)
  std::string dump_logits;
};

void print_help(const char *argv0) {
  std::printf(
      "usage: %s --prompt-ids ID,ID,... [options]\n"
      "Runs the compiled model %s.\n\n"
      "  --prompt-ids IDS    prompt as comma-separated token ids\n"
      "  -n, --max-new N     generate at most N tokens (default 128); stops early at an eos id\n"
      "  --greedy            pick the most likely token at every step\n"
      "  --ctx N             context length: KV cache positions (default min(%d, 4096))\n"
      "  --dump-logits FILE  write float32 logits of every prompt position and of every\n"
      "                      generated token that was fed back, as a .npy array [rows, %d]\n"
      "  -h, --help          this text\n\n"
      "Generated ids go to stdout, comma-separated on one line; timings to stderr.\n",
      argv0, kModel.name, kModel.max_positions, kModel.vocab_size);
}

[[noreturn]] void fail(const std::string &msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

long parse_int(const char *opt, const char *text, long lo, long hi) {
  char *end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < lo || v > hi)
    fail(std::string(opt) + " needs an integer in [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "], got '" + text + "'");
  return v;
}

std::vector<int32_t> parse_ids(const char *text) {
  std::vector<int32_t> ids;
  std::string s(text);
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    ids.push_back(int32_t(parse_int("--prompt-ids", item.c_str(), 0, kModel.vocab_size - 1)));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return ids;
}

Options parse_options(int argc, char **argv) {
  Options o;
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
      o.prompt_ids = parse_ids(value());
      o.have_prompt_ids = true;
    } else if (a == "-n" || a == "--max-new") {
      o.max_new = int(parse_int(a.c_str(), value(), 0, 1 << 30));
    } else if (a == "--greedy") {
      o.greedy = true;
    } else if (a == "--ctx") {
      o.ctx = int(parse_int("--ctx", value(), 1, kModel.max_positions));
    } else if (a == "--dump-logits") {
      o.dump_logits = value();
    } else {
      fail("unknown option '" + a + "' (see --help)");
    }
  }
  if (!o.have_prompt_ids)
    fail("give the prompt with --prompt-ids ID,ID,... (see --help)");
  if (!o.greedy)
    fail("only greedy decoding is available in this build: pass --greedy");
  if (o.ctx == 0)
    o.ctx = kModel.max_positions < 4096 ? kModel.max_positions : 4096;
  return o;
}

float *alloc_floats(size_t n, const char *what) {
  void *p = nullptr;
  if (n == 0)
    n = 1;
  if (posix_memalign(&p, 64, n * sizeof(float)) != 0)
    fail(std::string("out of memory allocating the ") + what);
  std::memset(p, 0, n * sizeof(float));
  return static_cast<float *>(p);
}

int32_t argmax(const float *logits, int n) {
  int32_t best = 0; // first maximum, as torch.argmax
  for (int i = 1; i < n; ++i)
    if (logits[i] > logits[best])
      best = i;
  return best;
}

bool is_eos(int32_t id) {
  for (int i = 0; i < kModel.num_eos_ids; ++i)
    if (kModel.eos_ids[i] == id)
      return true;
  return false;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char **argv) {
  Options opt = parse_options(argc, argv);
  const int V = kModel.vocab_size;
  const long n_prompt = long(opt.prompt_ids.size());
  // The last generated token is printed, never fed back.
  const long positions_needed = n_prompt + (opt.max_new > 0 ? opt.max_new - 1 : 0);
  if (positions_needed > opt.ctx)
    fail("the prompt (" + std::to_string(n_prompt) + " tokens) and --max-new " +
         std::to_string(opt.max_new) + " need " + std::to_string(positions_needed) +
         " positions, more than the context of " + std::to_string(opt.ctx) +
         " (raise --ctx, at most " + std::to_string(kModel.max_positions) + ")");

  Session s;
  s.weights = map_own_weights(kModel.weight_bytes);
  if (!s.weights)
    return 1;
  s.ctx = opt.ctx;
  const bool dump = !opt.dump_logits.empty();
  const size_t cache = size_t(kModel.num_layers) * opt.ctx * kModel.kv_dim;
  s.arena = alloc_floats(kModel.arena_floats, "activation arena");
  s.k_cache = alloc_floats(cache, "KV cache");
  s.v_cache = alloc_floats(cache, "KV cache");
  s.scratch = alloc_floats(kModel.scratch_floats_per_position * opt.ctx, "attention scratch");
  s.logits = alloc_floats(size_t(dump ? kModel.max_rows : 1) * V, "logits");

  NpyWriter npy;
  if (dump && !npy.open(opt.dump_logits, V))
    fail("cannot write --dump-logits file '" + opt.dump_logits + "'");

  std::vector<int32_t> positions(kModel.max_rows);
  auto t0 = std::chrono::steady_clock::now();
  const float *last = nullptr;
  for (long start = 0; start < n_prompt; start += kModel.max_rows) {
    int rows = int(n_prompt - start < kModel.max_rows ? n_prompt - start : kModel.max_rows);
    for (int r = 0; r < rows; ++r)
      positions[r] = int32_t(start + r);
    model_forward(s, opt.prompt_ids.data() + start, positions.data(), rows, dump);
    if (dump)
      npy.append_rows(s.logits, rows);
    last = dump ? s.logits + size_t(rows - 1) * V : s.logits;
  }
  const double prefill_s = seconds_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  int generated = 0;
  int32_t pos = int32_t(n_prompt);
  std::string sep;
  while (generated < opt.max_new) {
    int32_t next = argmax(last, V);
    std::printf("%s%d", sep.c_str(), next);
    std::fflush(stdout);
    sep = ",";
    ++generated;
    if (is_eos(next) || generated == opt.max_new)
      break;
    model_forward(s, &next, &pos, 1, dump);
    if (dump)
      npy.append_rows(s.logits, 1);
    last = s.logits;
    ++pos;
  }
  std::printf("\n");
  std::fflush(stdout);
  const double decode_s = seconds_since(t1);
  if (dump && !npy.close())
    fail("writing --dump-logits file '" + opt.dump_logits + "' failed");
  std::fprintf(stderr, "prefill: %ld tokens in %.3f s (%.1f tok/s); decode: %d tokens in %.3f s (%.1f tok/s)\n",
               n_prompt, prefill_s, n_prompt / (prefill_s > 0 ? prefill_s : 1e-9), generated - 1 > 0 ? generated - 1 : 0,
               decode_s, (generated > 1 ? generated - 1 : 0) / (decode_s > 0 ? decode_s : 1e-9));
  return 0;
}
