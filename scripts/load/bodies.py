#!/usr/bin/env python3
"""Writes JSON bodies for POST /api/v1/code from the transcribed notes:
notes of 2-5 KB (a few KB, as the load target says), one per line."""
import csv
import json
import sys

csv.field_size_limit(1 << 30)
src, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 500
n = 0
with open(src, newline="", encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
    for row in csv.DictReader(f):
        text = row["transcription"]
        if 2000 <= len(text.encode()) <= 5000:
            w.write(json.dumps({"text": text, "setting": "outpatient", "dos": "2026-03-02"}) + "\n")
            n += 1
            if n >= limit:
                break
print(n, file=sys.stderr)
