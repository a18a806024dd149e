// The cost of one sampled token's choice over Qwen's 151,936 logits, by
// sampling settings: what a decode step spends per sequence outside the
// forward pass (the server chooses its rows' tokens one after another).
//
//   g++ -O2 -I. bench/sampler.cpp runtime/sampler.cpp -o sampler && ./sampler
#include "runtime/sampler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace qwenc_rt;

int main() {
  const int vocab = 151936;
  Rng gen(3);
  std::vector<float> logits(static_cast<size_t>(vocab));
  for (float &v : logits) { // roughly normal, sd 3 (a random-weight model's spread)
    double s = 0;
    for (int i = 0; i < 4; ++i)
      s += gen.uniform();
    v = float((s - 2) * 5.2);
  }
  std::vector<int32_t> seen;
  for (int i = 0; i < 100; ++i)
    seen.push_back(int32_t(gen.next() % uint64_t(vocab)));
  struct Case {
    const char *name;
    SamplingParams p;
  };
  auto make = [](float t, int k, float top_p, float min_p, float rep) {
    SamplingParams p;
    p.temperature = t, p.top_k = k, p.top_p = top_p, p.min_p = min_p, p.repetition_penalty = rep;
    return p;
  };
  const Case cases[] = {
      {"Qwen2.5 generation_config: T 0.7, top-k 20, top-p 0.8, rep 1.05", make(0.7f, 20, 0.8f, 0, 1.05f)},
      {"transformers' default: T 1, top-k 50", make(1, 50, 1, 0, 1)},
      {"no top-k, top-p 0.9 (OpenAI clients' usual)", make(1, 0, 0.9f, 0, 1)},
      {"no top-k, min-p 0.05", make(1, 0, 1, 0.05f, 1)},
      {"no warper: T 1 (every token)", make(1, 0, 1, 0, 1)},
  };
  std::printf("| settings | median ms | min ms |\n|---|---|---|\n");
  for (const Case &c : cases) {
    std::vector<double> ms;
    Rng rng(1);
    for (int i = 0; i < 31; ++i) {
      std::vector<float> l = logits;
      const auto t0 = std::chrono::steady_clock::now();
      sample_next(l.data(), vocab, seen, c.p, rng);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("| %s | %.3f | %.3f |\n", c.name, ms[ms.size() / 2], ms[0]);
  }
}
