# threads.py — python3 with four threads on the preloaded malloc: each builds
# and drops dicts, lists and strings (objects made in one thread are freed in
# another when the shared dict drops them); the digest is the same on any
# correct malloc.
import hashlib
import threading

shared = {}
lock = threading.Lock()


def work(tid):
    local = []
    for i in range(40000):
        key = "t%d-%d" % (tid, i)
        value = [key * (i % 7 + 1), {"n": i, "s": str(i * i)}, bytes(i % 300)]
        local.append(value)
        if i % 3 == 0:
            with lock:
                shared[key] = value
        if len(local) > 500:
            del local[: 250]
    with lock:
        for k in [k for k in shared if k.startswith("t%d-" % tid) and int(k.split("-")[1]) % 2]:
            del shared[k]


threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
h = hashlib.sha256()
for k in sorted(shared):
    v = shared[k]
    h.update(k.encode())
    h.update(v[0].encode())
    h.update(v[1]["s"].encode())
    h.update(v[2])
print(len(shared), h.hexdigest())
