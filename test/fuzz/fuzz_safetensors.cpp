// A model.safetensors of arbitrary bytes, read as `qwenc import` reads it:
// the header parsed and validated, then the tensors checked against a config.
#include "compiler/frontend/Checkpoint.h"
#include "compiler/frontend/InputError.h"
#include "test/fuzz/FuzzDir.h"

using namespace qwenc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz::writeFile("model.safetensors", data, size);
  try {
    auto ck = Checkpoint::open(fuzz::scratchDir());
    // Every tensor the header admits must be readable where it says it is.
    float sum = 0;
    for (const auto &[name, t] : ck->tensors())
      if (t.numElements() > 0)
        sum += t.valueAt(0) + t.valueAt(t.numElements() - 1);
    ModelConfig c;
    c.hiddenSize = 8, c.intermediateSize = 16, c.numLayers = 1, c.numHeads = 2, c.numKvHeads = 1;
    c.vocabSize = 4, c.tieWordEmbeddings = true;
    validateCheckpoint(c, *ck);
    (void)sum;
  } catch (const InputError &) {
  }
  return 0;
}
