"""The work picklescan does for one pickle file, re-stated for the start-up bench (issue #14:
"the big pickle >= 12x picklescan-equivalent time"). picklescan is not installable offline here;
when it is importable, bench/startup.ts times the real one as well.

What picklescan's scan_pickle_bytes does per file, written from its documented behaviour (not
its code): walk every opcode with pickletools.genops over the open file (opcode by opcode),
collect the opcodes in a list, then one pass over the list that records memo entries
(MEMOIZE / PUT / BINPUT / LONG_BINPUT), takes GLOBAL/INST names and resolves STACK_GLOBAL by
walking back to the two string pushes (through the memo for GET opcodes), repeat for a further
pickle in the same file, and finally sort every import into safe / dangerous / unknown by module
tables. It leaves out picklescan's own start-up (argument parsing, logging, its module tables'
size), so it is a lower bound on picklescan's time: the ratio against it is conservative.
"""
import pickletools
import sys

MEMO_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
MEMO_GETS = {"GET", "BINGET", "LONG_BINGET"}
STRINGS = {"SHORT_BINUNICODE", "UNICODE", "BINUNICODE", "BINUNICODE8", "STRING", "BINSTRING", "SHORT_BINSTRING"}
SAFE = {"collections": {"OrderedDict"}, "torch": {"FloatStorage", "LongStorage"}, "numpy": {"dtype", "ndarray"}}
DANGEROUS = {"os": "*", "posix": "*", "subprocess": "*", "builtins": {"eval", "exec", "getattr"}}


def imports_of(f):
    found = set()
    while True:
        if not f.read(1):
            break
        f.seek(-1, 1)
        ops = []
        error = None
        try:
            for op in pickletools.genops(f):
                ops.append(op)
        except Exception as e:  # a broken stream still has its imports reported
            error = e
        memo = {}
        for n, (info, arg, _pos) in enumerate(ops):
            name = info.name
            if name == "MEMOIZE" and n > 0:
                memo[len(memo)] = ops[n - 1][1]
            elif name in MEMO_PUTS and n > 0:
                memo[arg] = ops[n - 1][1]
            elif name in ("GLOBAL", "INST"):
                found.add(tuple(arg.split(" ", 1)))
            elif name == "STACK_GLOBAL":
                values = []
                for back in range(1, n + 1):
                    prev, parg, _ = ops[n - back]
                    if prev.name == "MEMOIZE" or prev.name in MEMO_PUTS:
                        continue
                    if prev.name in MEMO_GETS:
                        values.append(str(memo.get(parg, "unknown")))
                    elif prev.name in STRINGS:
                        values.append(parg)
                    else:
                        values.append("unknown")
                    if len(values) == 2:
                        break
                found.add((values[-1], values[0]))
        if error is not None:
            break
    return found


def verdict(found):
    dangerous = 0
    for module, name in found:
        bad = DANGEROUS.get(module)
        if "unknown" in (module, name) or (bad is not None and (bad == "*" or name in bad)):
            dangerous += 1
    return dangerous


with open(sys.argv[1], "rb") as f:
    found = imports_of(f)
print(len(found), verdict(found))
