"""Appends an empty weight blob and its trailer (runtime/weights.h) to an
executable built by hand from a bundle's model.cpp, as qwenc's build step
does for a program whose model has no tokenizer tables."""
import os
import struct
import sys

path = sys.argv[1]
size = os.path.getsize(path)
pad = (-size) % 4096
with open(path, "ab") as f:
    f.write(b"\0" * pad)
    f.write(b"QWENCWT1" + struct.pack("<QQQ", size + pad, 0, 1))
