"""Moves a compiled executable's weight blob to byte offset OFFSET (a sparse
hole before it) and rewrites the trailer (runtime/weights.h), so that the
loader is tested past 4 GiB without 4 GiB of weights:
   relocate_blob.py EXE OFFSET"""
import os
import struct
import sys

path, new_off = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(path)
with open(path, "rb") as f:
    f.seek(size - 32)
    trailer = f.read(32)
    magic = trailer[:8]
    off, nbytes, version = struct.unpack("<QQQ", trailer[8:])
    assert magic == b"QWENCWT1" and new_off % 4096 == 0 and new_off >= off
    f.seek(off)
    blob = f.read(nbytes)
with open(path, "r+b") as f:
    f.truncate(off)
    f.truncate(new_off)
    f.seek(new_off)
    f.write(blob)
    f.write(magic + struct.pack("<QQQ", new_off, nbytes, version))
print("blob of %d bytes moved from %d to %d; file %d bytes" % (nbytes, off, new_off, os.path.getsize(path)))
