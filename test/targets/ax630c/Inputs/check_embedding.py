"""Checks an AX630C bundle's model.embed_tokens.weight.bfloat16.bin against
the checkpoint, as the contract defines it: raw row-major bf16 [vocab,
hidden], each value the upper 16 bits of its float32 (truncation)."""
import json
import struct
import sys

model, binfile = sys.argv[1], sys.argv[2]
with open(model + "/model.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
t = header["model.embed_tokens.weight"]
begin, end = t["data_offsets"]
raw = data[begin:end]
vocab, hidden = t["shape"]
if t["dtype"] == "F32":
    floats = struct.unpack("<%dI" % (vocab * hidden), raw)
    want = struct.pack("<%dH" % len(floats), *[x >> 16 for x in floats])
elif t["dtype"] == "BF16":
    want = raw
else:
    sys.exit("unexpected dtype " + t["dtype"])
got = open(binfile, "rb").read()
if len(got) != vocab * hidden * 2:
    sys.exit("%s: %d bytes, want vocab x hidden x 2 = %d" % (binfile, len(got), vocab * hidden * 2))
if got != want:
    sys.exit("%s: bytes differ from the truncated checkpoint" % binfile)
print("embedding: %d x %d bf16, %d bytes, equal to the checkpoint truncated" % (vocab, hidden, len(got)))
