// The AX630C host program's forward(): every decoder layer and the post
// model are NPU model files (Pulsar2's, or the emulated engine's
// descriptors), run through the engine API as docs/ax630c/CONTRACT.md says.
//
//   decode (group 0): one token; the host keeps the KV cache in the group's
//     K_cache/V_cache inputs, copies each step's K/V_cache_out into row pos
//     and opens mask[pos];
//   prefill (groups 1..G): PREFILL rows at a time; a group with history
//     takes the cache rows before the chunk; the host picks the first group
//     that holds history + chunk (any, for a chunk at position 0), and where
//     none does, runs the chunk as decode steps;
//   post: the hidden state of a row to bf16 logits.
//
// Every buffer is allocated when the bundle opens: forward() allocates
// nothing.
#include "host.h"
#include "ax_api.h"
#include "map_file.h"
#include "../../bf16.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/random.h>
#include <unistd.h>
#include <vector>

// The host program links libc dynamically (the engine's libraries need it)
// and libstdc++ statically; GCC 12's libstdc++ built against glibc 2.36
// names arc4random (std::random_device, which nothing here constructs),
// which would make the program need glibc 2.36. Defined here, the program
// runs on glibc 2.35 (Ubuntu 22.04's); bundle.test checks the versions.
extern "C" uint32_t arc4random(void) {
  uint32_t v = 0;
  while (getrandom(&v, sizeof v, 0) != ssize_t(sizeof v)) {
  }
  return v;
}

namespace qwenc_rt::ax630c {
namespace {

std::string g_error; // what open_bundle() returns

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

std::string hex(int32_t status) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", unsigned(status));
  return buf;
}

/// One group of a model file: its io info, the buffers in the io info's
/// order, and where the named tensors are among them.
struct Group {
  qwenc_ax::IoInfo *info = nullptr;
  std::vector<qwenc_ax::IoBuffer> in, out;
  qwenc_ax::Io io{};
  int input = -1, k = -1, v = -1, indices = -1, mask = -1, output = -1, kout = -1, vout = -1;
  int rows = 0; // rows of `input`: 1 (decode) or PREFILL
  int hist = 0; // rows of K_cache
  int mask_open = 0; // decode group: cache rows its mask opens (mask[j] = 0 for j < mask_open)

  uint16_t *in16(int i) { return static_cast<uint16_t *>(in[size_t(i)].virt); }
  uint16_t *out16(int i) { return static_cast<uint16_t *>(out[size_t(i)].virt); }
};

struct Model {
  std::string path;
  qwenc_ax::Handle handle = nullptr;
  qwenc_ax::Context context = nullptr;
  std::vector<Group> groups;
};

struct Bundle {
  std::string dir;
  std::vector<Model> layers;
  Model post;
  const uint16_t *embed = nullptr; // [vocab, hidden] bf16, mapped
  std::vector<uint16_t> rows;      // [PREFILL, hidden]: the hidden state between layers
  bool open = false;
  bool engine_up = false; // AX_SYS_Init and AX_ENGINE_Init done
};
Bundle g;

std::string dir_of_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return ".";
  std::string path(buf, size_t(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// A file of the bundle mapped (map_file.h); null with g_error saying
/// what the file is for.
const void *map_bundle_file(const std::string &path, size_t &size, const char *what) {
  const void *p = map_file(path, size, g_error);
  if (!p)
    g_error += std::string(" (") + what + ")";
  return p;
}

bool alloc(qwenc_ax::IoBuffer &b, const qwenc_ax::TensorMeta &m, bool cached, const std::string &file) {
  std::memset(&b, 0, sizeof b);
  // A tensor of no rows (the K_cache of a prefill group without history)
  // still gets a buffer: an address the engine may check.
  const uint32_t bytes = m.size ? m.size : 128;
  void *virt = nullptr;
  uint64_t phys = 0;
  const int8_t *token = reinterpret_cast<const int8_t *>("npu");
  int32_t rc = cached ? AX_SYS_MemAllocCached(&phys, &virt, bytes, 128, token)
                      : AX_SYS_MemAlloc(&phys, &virt, bytes, 128, token);
  if (rc != 0 || !virt) {
    g_error = file + ": AX_SYS_MemAlloc of " + std::to_string(bytes) + " bytes for '" + m.name + "' failed (" +
              hex(rc) + ")";
    return false;
  }
  std::memset(virt, 0, bytes);
  if (cached)
    AX_SYS_MflushCache(phys, virt, bytes);
  b.phys = phys;
  b.virt = virt;
  b.size = m.size;
  return true;
}

int find(const qwenc_ax::TensorMeta *metas, uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; ++i)
    if (metas[i].name && std::strcmp(metas[i].name, name) == 0)
      return int(i);
  return -1;
}

std::string shape_of(const qwenc_ax::TensorMeta &m) {
  std::string s = "[";
  for (int i = 0; i < m.shape_size && m.shape; ++i)
    s += (i ? ", " : "") + std::to_string(m.shape[i]);
  return s + "]";
}

/// Loads one model file: handle, contexts, each group's io info and buffers.
bool load_model(Model &m, const std::string &path) {
  m.path = path;
  size_t size = 0;
  const void *bytes = map_bundle_file(path, size, "a model file of the bundle; see README.md: run Pulsar2 first");
  if (!bytes)
    return false;
  if (size > 0xffffffffu) {
    g_error = path + ": larger than 4 GiB, more than the engine takes";
    return false;
  }
  int32_t rc = AX_ENGINE_CreateHandle(&m.handle, bytes, uint32_t(size));
  if (rc != 0) {
    g_error = path + ": the engine cannot load it (AX_ENGINE_CreateHandle " + hex(rc) + ")";
    return false;
  }
  if ((rc = AX_ENGINE_CreateContext(m.handle)) != 0 ||
      (rc = AX_ENGINE_CreateContextV2(m.handle, &m.context)) != 0) {
    g_error = path + ": AX_ENGINE_CreateContext failed (" + hex(rc) + ")";
    return false;
  }
  uint32_t count = 0;
  if ((rc = AX_ENGINE_GetGroupIOInfoCount(m.handle, &count)) != 0 || count == 0 || count > 64) {
    g_error = path + ": AX_ENGINE_GetGroupIOInfoCount failed or gave " + std::to_string(count) + " groups";
    return false;
  }
  m.groups.resize(count);
  for (uint32_t gi = 0; gi < count; ++gi) {
    Group &gr = m.groups[gi];
    if ((rc = AX_ENGINE_GetGroupIOInfo(m.handle, gi, &gr.info)) != 0 || !gr.info) {
      g_error = path + ": AX_ENGINE_GetGroupIOInfo(" + std::to_string(gi) + ") failed (" + hex(rc) + ")";
      return false;
    }
    gr.in.resize(gr.info->input_count);
    gr.out.resize(gr.info->output_count);
    for (uint32_t i = 0; i < gr.info->input_count; ++i)
      if (!alloc(gr.in[i], gr.info->inputs[i], false, path))
        return false;
    for (uint32_t i = 0; i < gr.info->output_count; ++i)
      if (!alloc(gr.out[i], gr.info->outputs[i], true, path))
        return false;
    gr.io.inputs = gr.in.data();
    gr.io.input_count = gr.info->input_count;
    gr.io.outputs = gr.out.data();
    gr.io.output_count = gr.info->output_count;
    gr.io.batch_size = 1;
  }
  return true;
}

/// Finds the tensors of a layer file's group and checks their byte sizes
/// against the contract for this bundle.
bool check_layer_group(const Model &m, Group &gr, int gi) {
  const BundleDesc &b = kAxBundle;
  const qwenc_ax::IoInfo &io = *gr.info;
  const std::string where = m.path + ": group " + std::to_string(gi);
  struct Named {
    int *slot;
    const char *name;
    bool input;
  } named[] = {{&gr.input, kInput, true},   {&gr.k, kKCache, true},   {&gr.v, kVCache, true},
               {&gr.indices, kIndices, true}, {&gr.mask, kMask, true}, {&gr.output, kOutput, false},
               {&gr.kout, kKOut, false},    {&gr.vout, kVOut, false}};
  for (const Named &n : named) {
    *n.slot = n.input ? find(io.inputs, io.input_count, n.name) : find(io.outputs, io.output_count, n.name);
    if (*n.slot < 0) {
      g_error = where + " has no " + (n.input ? "input" : "output") + " '" + n.name + "'";
      return false;
    }
  }
  const uint64_t row = uint64_t(b.hidden) * 2, kv_row = uint64_t(b.kv_dim) * 2;
  gr.rows = gi == 0 ? 1 : b.prefill;
  const uint64_t kbytes = io.inputs[gr.k].size;
  if (kv_row == 0 || kbytes % kv_row != 0) {
    g_error = where + ": K_cache is " + std::to_string(kbytes) + " bytes, not a whole number of rows of " +
              std::to_string(b.kv_dim) + " bf16 values";
    return false;
  }
  gr.hist = int(kbytes / kv_row);
  const uint64_t R = uint64_t(gr.rows), H = uint64_t(gr.hist);
  struct Size {
    const qwenc_ax::TensorMeta &meta;
    uint64_t want;
    const char *what;
  } sizes[] = {
      {io.inputs[gr.input], R * row, "rows x hidden bf16"},
      {io.inputs[gr.v], kbytes, "the size of K_cache"},
      {io.inputs[gr.indices], R * 4, "one u32 per row"},
      {io.inputs[gr.mask], R * (H + R) * 2, "rows x (cache rows + rows) bf16"},
      {io.outputs[gr.output], R * row, "rows x hidden bf16"},
      {io.outputs[gr.kout], R * kv_row, "rows x kv bf16"},
      {io.outputs[gr.vout], R * kv_row, "rows x kv bf16"},
  };
  for (const Size &s : sizes)
    if (s.meta.size != s.want) {
      g_error = where + ": '" + s.meta.name + "' " + shape_of(s.meta) + " is " + std::to_string(s.meta.size) +
                " bytes, the contract says " + std::to_string(s.want) + " (" + s.what + ", hidden " +
                std::to_string(b.hidden) + ", kv " + std::to_string(b.kv_dim) + ", prefill " +
                std::to_string(b.prefill) + "): a file built with other options than this host program";
      return false;
    }
  if (gi == 0 && gr.hist != b.kv_cache_len) {
    g_error = where + " (decode) holds " + std::to_string(gr.hist) + " cache rows; this host program was built for " +
              "--kv-len " + std::to_string(b.kv_cache_len);
    return false;
  }
  return true;
}

void run(Model &m, int gi) {
  Group &gr = m.groups[size_t(gi)];
  // Outputs are cached memory: invalidated before the run too, so that no
  // line the CPU holds is written back over what the NPU writes.
  for (qwenc_ax::IoBuffer &b : gr.out)
    AX_SYS_MinvalidateCache(b.phys, b.virt, b.size);
  int32_t rc = gi == 0 && m.groups.size() == 1 ? AX_ENGINE_RunSync(m.handle, &gr.io)
                                                : AX_ENGINE_RunGroupIOSync(m.handle, m.context, uint32_t(gi), &gr.io);
  if (rc != 0)
    die(m.path + ": running group " + std::to_string(gi) + " failed (" + hex(rc) + ")");
  for (qwenc_ax::IoBuffer &b : gr.out)
    AX_SYS_MinvalidateCache(b.phys, b.virt, b.size);
}

/// Sets `mask` (one row of the decode group) to open cache rows [0, n).
void open_decode_mask(Group &d, int n) {
  uint16_t *mask = d.in16(d.mask);
  for (int j = d.mask_open; j < n; ++j)
    mask[j] = kMaskAttend;
  for (int j = n; j < d.mask_open; ++j)
    mask[j] = kMaskBlocked;
  d.mask_open = n;
}

/// The post model: one row of bf16 hidden state to float logits.
void post(const uint16_t *x, float *logits) {
  Group &gr = g.post.groups[0];
  std::memcpy(gr.in16(0), x, size_t(kAxBundle.hidden) * 2);
  run(g.post, 0);
  const uint16_t *y = gr.out16(0);
  for (int i = 0; i < kAxBundle.vocab; ++i)
    logits[i] = bf16_widen(y[i]);
}

/// One token at `pos` through every layer; its hidden state ends in x.
void decode(int32_t id, int pos, uint16_t *x) {
  const BundleDesc &b = kAxBundle;
  std::memcpy(x, g.embed + size_t(id) * size_t(b.hidden), size_t(b.hidden) * 2);
  for (Model &m : g.layers) {
    Group &d = m.groups[0];
    std::memcpy(d.in16(d.input), x, size_t(b.hidden) * 2);
    *static_cast<uint32_t *>(d.in[size_t(d.indices)].virt) = uint32_t(pos);
    open_decode_mask(d, pos);
    run(m, 0);
    std::memcpy(d.in16(d.k) + size_t(pos) * size_t(b.kv_dim), d.out16(d.kout), size_t(b.kv_dim) * 2);
    std::memcpy(d.in16(d.v) + size_t(pos) * size_t(b.kv_dim), d.out16(d.vout), size_t(b.kv_dim) * 2);
    std::memcpy(x, d.out16(d.output), size_t(b.hidden) * 2);
  }
}

/// The prefill group for n tokens at `start`: the first that holds the
/// history and the chunk (any for start 0), or -1.
int prefill_group(int start, int n) {
  const std::vector<Group> &groups = g.layers[0].groups;
  for (size_t gi = 1; gi < groups.size(); ++gi)
    if (start == 0 || start + n <= groups[gi].hist)
      return int(gi);
  return -1;
}

/// n <= PREFILL tokens at `start` through group gi of every layer; their
/// hidden states end in g.rows.
void prefill(int gi, const int32_t *ids, int start, int n) {
  const BundleDesc &b = kAxBundle;
  const size_t row = size_t(b.hidden), P = size_t(b.prefill);
  std::memset(g.rows.data(), 0, P * row * 2);
  for (int i = 0; i < n; ++i)
    std::memcpy(g.rows.data() + size_t(i) * row, g.embed + size_t(ids[i]) * row, row * 2);
  for (Model &m : g.layers) {
    Group &gr = m.groups[size_t(gi)];
    Group &d = m.groups[0]; // its K/V_cache inputs hold the cache
    const size_t H = size_t(gr.hist), kv = size_t(b.kv_dim);
    std::memcpy(gr.in16(gr.input), g.rows.data(), P * row * 2);
    uint32_t *idx = static_cast<uint32_t *>(gr.in[size_t(gr.indices)].virt);
    for (size_t i = 0; i < P; ++i)
      idx[i] = int(i) < n ? uint32_t(start + int(i)) : 0;
    if (start > 0) {
      std::memcpy(gr.in16(gr.k), d.in16(d.k), size_t(start) * kv * 2);
      std::memcpy(gr.in16(gr.v), d.in16(d.v), size_t(start) * kv * 2);
    }
    uint16_t *mask = gr.in16(gr.mask);
    for (size_t i = 0; i < P; ++i) {
      uint16_t *r = mask + i * (H + P);
      for (size_t j = 0; j < H + P; ++j) {
        const bool open = int(i) < n && (int(j) < start || (j >= H && j - H <= i));
        r[j] = open ? kMaskAttend : kMaskBlocked;
      }
    }
    run(m, gi);
    std::memcpy(d.in16(d.k) + size_t(start) * kv, gr.out16(gr.kout), size_t(n) * kv * 2);
    std::memcpy(d.in16(d.v) + size_t(start) * kv, gr.out16(gr.vout), size_t(n) * kv * 2);
    std::memcpy(g.rows.data(), gr.out16(gr.output), P * row * 2);
  }
}

/// At exit: every buffer, handle and the engine released, as the vendor's
/// samples do (the board's memory allocator outlives a process that does not).
void close_bundle() {
  auto release = [](Model &m) {
    for (Group &gr : m.groups)
      for (auto *list : {&gr.in, &gr.out})
        for (qwenc_ax::IoBuffer &b : *list)
          if (b.virt)
            AX_SYS_MemFree(b.phys, b.virt);
    if (m.handle)
      AX_ENGINE_DestroyHandle(m.handle);
    m.groups.clear();
    m.handle = nullptr;
  };
  for (Model &m : g.layers)
    release(m);
  release(g.post);
  if (g.engine_up) {
    AX_ENGINE_Deinit();
    AX_SYS_Deinit();
  }
  g.open = g.engine_up = false;
}

} // namespace

const char *select_kernels(const char *, const char *request, const char **error) {
  if (request && *request && std::strcmp(request, "auto") != 0) {
    *error = "--isa applies to executables compiled with --target x86-64-avx2 or aarch64; the NPU runs this one";
    return nullptr;
  }
  return "AX630C NPU (engine API)";
}

const char *open_bundle(int ctx, bool verbose) {
  const BundleDesc &b = kAxBundle;
  if (g.open)
    return nullptr;
  if (ctx > b.kv_cache_len) {
    g_error = "--ctx " + std::to_string(ctx) + " is more than the bundle's KV cache of " +
              std::to_string(b.kv_cache_len) + " rows (compile with a larger --kv-len)";
    return g_error.c_str();
  }
  g.dir = dir_of_executable();
  size_t size = 0;
  const std::string embed = g.dir + "/" + kEmbedFile;
  g.embed = static_cast<const uint16_t *>(map_bundle_file(embed, size, "the embedding table qwenc wrote"));
  if (!g.embed)
    return g_error.c_str();
  if (size != size_t(b.vocab) * size_t(b.hidden) * 2) {
    g_error = embed + ": " + std::to_string(size) + " bytes, not vocab x hidden x 2 = " +
              std::to_string(size_t(b.vocab) * size_t(b.hidden) * 2);
    return g_error.c_str();
  }
  int32_t rc = AX_SYS_Init();
  if (rc != 0) {
    g_error = "AX_SYS_Init failed (" + hex(rc) + "): is this the AX630C board, with its drivers loaded?";
    return g_error.c_str();
  }
  qwenc_ax::NpuAttr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.hard_mode = qwenc_ax::kVirtualNpuDisabled;
  if ((rc = AX_ENGINE_Init(&attr)) != 0) {
    AX_SYS_Deinit();
    g_error = "AX_ENGINE_Init failed (" + hex(rc) + ")";
    return g_error.c_str();
  }
  g.engine_up = true;
  std::atexit(close_bundle);
  g.layers.resize(size_t(b.num_layers));
  for (int i = 0; i < b.num_layers; ++i) {
    Model &m = g.layers[size_t(i)];
    if (!load_model(m, g.dir + "/" + layer_file(b.prefill, i)))
      return g_error.c_str();
    for (size_t gi = 0; gi < m.groups.size(); ++gi)
      if (!check_layer_group(m, m.groups[gi], int(gi)))
        return g_error.c_str();
    if (i > 0 && m.groups.size() != g.layers[0].groups.size()) {
      g_error = m.path + ": " + std::to_string(m.groups.size()) + " groups, but layer 0 has " +
                std::to_string(g.layers[0].groups.size()) + ": the files come from different builds";
      return g_error.c_str();
    }
    for (size_t gi = 1; i > 0 && gi < m.groups.size(); ++gi)
      if (m.groups[gi].hist != g.layers[0].groups[gi].hist) {
        g_error = m.path + ": group " + std::to_string(gi) + " differs from layer 0's: the files come from "
                  "different builds";
        return g_error.c_str();
      }
    // The decode group's mask: the current token's entry always open,
    // every cache row closed until filled.
    Group &d = m.groups[0];
    uint16_t *mask = d.in16(d.mask);
    for (int j = 0; j < b.kv_cache_len; ++j)
      mask[j] = kMaskBlocked;
    mask[b.kv_cache_len] = kMaskAttend;
  }
  if (!load_model(g.post, g.dir + "/" + kPostFile))
    return g_error.c_str();
  {
    const qwenc_ax::IoInfo &io = *g.post.groups[0].info;
    if (g.post.groups.size() != 1 || io.input_count != 1 || io.output_count != 1 ||
        io.inputs[0].size != uint32_t(b.hidden) * 2) {
      g_error = g.post.path + ": expected one group with one input of " + std::to_string(b.hidden) +
                " bf16 values and one output";
      return g_error.c_str();
    }
    if (io.outputs[0].size != uint32_t(b.vocab) * 2) {
      g_error = g.post.path + ": its output is " + std::to_string(io.outputs[0].size) + " bytes, not " +
                std::to_string(b.vocab) + " bf16 logits" +
                (io.outputs[0].size < uint32_t(b.vocab) ? " (built with a top-k option? qwenc samples from all "
                                                          "logits: build it without)"
                                                        : "");
      return g_error.c_str();
    }
  }
  g.rows.assign(size_t(b.prefill) * size_t(b.hidden), 0);
  g.open = true;
  if (verbose) {
    std::string groups;
    for (size_t gi = 1; gi < g.layers[0].groups.size(); ++gi)
      groups += (groups.empty() ? "" : ", ") + std::to_string(g.layers[0].groups[gi].hist);
    std::fprintf(stderr, "ax630c: %d layer file%s + post from %s; prefill groups of %d rows with history %s; "
                         "KV cache %d rows (%.1f MB)\n",
                 b.num_layers, b.num_layers == 1 ? "" : "s", g.dir.c_str(), b.prefill, groups.empty() ? "(none)" : groups.c_str(),
                 b.kv_cache_len, 2.0 * b.num_layers * b.kv_cache_len * b.kv_dim * 2 / 1e6);
  }
  return nullptr;
}

} // namespace qwenc_rt::ax630c

using namespace qwenc_rt;
using namespace qwenc_rt::ax630c;

void model_forward(Session &s, const int32_t *ids, const int32_t *positions, int rows, bool all_logits) {
  if (!g.open)
    die("the bundle's model files are not loaded (a qwenc bug: open_device was not called)");
  const BundleDesc &b = kAxBundle;
  const size_t row = size_t(b.hidden), V = size_t(b.vocab);
  const int start = positions[0];
  if (start + rows > b.kv_cache_len)
    die("position " + std::to_string(start + rows - 1) + " is past the KV cache of " +
        std::to_string(b.kv_cache_len) + " rows");
  const int gi = rows > 1 ? prefill_group(start, rows) : -1;
  if (gi < 0) {
    // One decode step per token (no prefill group holds this chunk).
    for (int i = 0; i < rows; ++i) {
      decode(ids[i], start + i, g.rows.data());
      if (all_logits || i == rows - 1)
        post(g.rows.data(), s.logits + (all_logits ? size_t(i) * V : 0));
    }
    return;
  }
  prefill(gi, ids, start, rows);
  if (all_logits)
    for (int i = 0; i < rows; ++i)
      post(g.rows.data() + size_t(i) * row, s.logits + size_t(i) * V);
  else
    post(g.rows.data() + size_t(rows - 1) * row, s.logits);
}
