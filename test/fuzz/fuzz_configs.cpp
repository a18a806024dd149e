// config.json, generation_config.json and tokenizer_config.json of arbitrary
// bytes, each beside valid companions; the first byte picks the file.
#include "compiler/frontend/InputError.h"
#include "compiler/frontend/ModelConfig.h"
#include "compiler/frontend/TokenizerTables.h"
#include "test/fuzz/FuzzDir.h"
#include "test/tools/TinyTokenizer.h"

using namespace qwenc;

namespace {

const char *kConfig = R"({"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4,
  "num_key_value_heads": 2, "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 400})";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool tokenizer = (fuzz::writeFile("tokenizer.json", qwenc::test::tinyTokenizer().dump()), true);
  (void)tokenizer;
  if (size == 0)
    return 0;
  const char *names[] = {"config.json", "generation_config.json", "tokenizer_config.json"};
  const int which = data[0] % 3;
  for (int i = 0; i < 3; ++i)
    if (i == which)
      fuzz::writeFile(names[i], data + 1, size - 1);
    else if (i == 0)
      fuzz::writeFile(names[i], kConfig);
    else
      fuzz::removeFile(names[i]);
  try {
    loadModelConfig(fuzz::scratchDir());
    loadGenerationConfig(fuzz::scratchDir());
    compileTokenizer(fuzz::scratchDir());
  } catch (const InputError &) {
  }
  return 0;
}
