"""Writes the e2e workspace's model files (run with /usr/bin/python3; needs torch).

malicious.pkl: a raw-opcode pickle whose payload would call os.system("touch /tmp/modelvet_pwned_e2e") if
anything ever unpickled it. Nothing here loads it: it is written byte by byte.
benign.pt: a tiny torch.save() state dict (zip format), the model ModelVet should call safe and convert.
pytorch_model.bin: the same state dict under the Hub's most common pickle name (opens in ModelVet's view).
notes.bin: a `.bin` that is not a model (plain text): the view shows a hex preview and the way out.
"""
import sys
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

payload = b"touch /tmp/modelvet_pwned_e2e"
malicious = (
    b"\x80\x02"                      # PROTO 2
    b"cposix\nsystem\n"              # GLOBAL posix.system
    + b"X" + len(payload).to_bytes(4, "little") + payload  # BINUNICODE
    + b"\x85"                        # TUPLE1
    + b"R"                           # REDUCE
    + b"."                           # STOP
)
(out / "malicious.pkl").write_bytes(malicious)

import torch  # noqa: E402  (only needed for the benign checkpoint)

torch.manual_seed(0)
state = {"fc.weight": torch.randn(4, 3), "fc.bias": torch.zeros(4), "embed.weight": torch.randn(10, 4, dtype=torch.float16)}
torch.save(state, out / "benign.pt")
torch.save(state, out / "pytorch_model.bin")
(out / "notes.bin").write_bytes(b"build notes: not a model, just text\n")
print(f"models written to {out}")
