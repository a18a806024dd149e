"""Prints token ids of a golden file, comma-separated, for --prompt-ids:
   golden_ids.py sequences.json K    the K-th sequence
   golden_ids.py greedy.json KEY     greedy.json's "prompt" or "generated"
"""
import json
import sys

data = json.load(open(sys.argv[1]))
ids = data[int(sys.argv[2])] if sys.argv[2].isdigit() else data[sys.argv[2]]
print(",".join(str(i) for i in ids))
