# make_input.py — (a copy of exercise 05's) writes the input of programs/sort: 300000 lines of pseudo-random
# words and numbers (about 9 MB), the same on every run (a fixed seed, no
# dependence on Python's string hashing).
import random
import sys

rng = random.Random(20240505)
letters = "abcdefghijklmnopqrstuvwxyz"
out = sys.stdout
for i in range(300000):
    word = "".join(rng.choice(letters) for _ in range(rng.randint(3, 12)))
    out.write(f"{word} {rng.randint(0, 10**9)} {i % 977}\n")
