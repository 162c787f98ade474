#!/usr/bin/env python3
"""trim.py — cuts a window out of a recorded trace and makes it self-contained.

Usage: trim.py <recorded.rep> <out.rep> <first op> <count> "<description>"

Operations on blocks allocated before the window are dropped (a free) or made
allocations (a realloc); ids are renumbered from 0 in order of appearance, with
freed numbers reused, so they stay small. Blocks still live at the window's end
stay live: the trace engine frees them after the trace.
"""
import sys

src, dst, first, count, what = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ops = [l.split() for l in open(src) if l.strip() and not l.startswith('#')]
window = ops[first:first + count]
ids, spare, out, nxt = {}, [], [], 0
for op in window:
    k, old = op[0], op[1]
    if k == 'f':
        if old in ids:
            out.append('f %d' % ids[old])
            spare.append(ids.pop(old))
        continue
    if k == 'r' and old in ids:
        out.append('r %d %s' % (ids[old], op[2]))
        continue
    if k == 'a' and old in ids:  # cannot happen in a recording; be safe
        continue
    if spare:
        new = spare.pop()
    else:
        new, nxt = nxt, nxt + 1
    ids[old] = new
    out.append('a %d %s' % (new, op[2]))
with open(dst, 'w') as f:
    f.write('# %s\n# operations %d..%d of the recording, %d kept, %d ids\n'
            % (what, first, first + count, len(out), nxt))
    f.write('\n'.join(out) + '\n')
print(dst, len(out), 'operations', nxt, 'ids')
