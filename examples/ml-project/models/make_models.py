#!/usr/bin/env python3
"""Writes the example's model files. Nothing here loads a pickle.

- pytorch_model.bin: a raw pickle (protocol 2) that would run `touch /tmp/modelvet_pwned_x`
  through os.system if loaded — written opcode by opcode, never unpickled.
- classifier.safetensors: a valid SafeTensors file (one 2x2 float32 tensor), written byte-exactly.
"""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))

payload = b"touch /tmp/modelvet_pwned_x"
malicious = (
    b"\x80\x02"                       # PROTO 2
    b"cos\nsystem\n"                  # GLOBAL os.system
    b"X" + struct.pack("<I", len(payload)) + payload +  # BINUNICODE
    b"\x85"                           # TUPLE1
    b"R"                              # REDUCE
    b"."                              # STOP
)
with open(os.path.join(here, "pytorch_model.bin"), "wb") as f:
    f.write(malicious)

data = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
header = {"weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, len(data)]},
          "__metadata__": {"format": "pt"}}
hb = json.dumps(header, separators=(",", ":")).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)
with open(os.path.join(here, "classifier.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + data)
