# big_dict.py — the workload of programs/python3: builds a dict of 400000
# entries (strings to lists), grows and shrinks it, and prints a digest that does
# not depend on the order of the entries. Python takes memory for its big
# objects (the dict's tables, the lists) from malloc and realloc.
import hashlib

d = {}
for i in range(400000):
    key = f"key-{i * 7919 % 1000003}"
    d[key] = [i, str(i) * (i % 7), key.upper()]
for i in range(0, 400000, 3):
    d.pop(f"key-{i * 7919 % 1000003}", None)
for k in list(d)[:50000]:
    d[k].append(k * 3)

digest = hashlib.sha256()
for k in sorted(d):
    digest.update(repr((k, d[k])).encode())
print(len(d), digest.hexdigest())
