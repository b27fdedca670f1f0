from swarm import checkpoint
# Word-frequency count over a small text: normalization, dict counting with
# get(), sorting by (-count, word), top-k, bigrams; checkpoints per word.

TEXT = """The quick brown fox jumps over the lazy dog. The dog barks;
the fox runs! A quick, quick fox -- and a lazy, lazy dog. Dog? Fox."""


def normalize(word):
    checkpoint()
    return "".join(ch for ch in word.lower() if ch.isalpha())


def count_words(text):
    counts = {}
    words = []
    for raw in text.split():
        w = normalize(raw)
        if not w:
            continue
        checkpoint()
        counts[w] = counts.get(w, 0) + 1
        words.append(w)
    return counts, words


def top(counts, k):
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    checkpoint()
    return ranked[:k]


def bigrams(words):
    out = {}
    for a, b in zip(words, words[1:]):
        checkpoint()
        out[(a, b)] = out.get((a, b), 0) + 1
    return {k: v for k, v in out.items() if v > 1}


counts, words = count_words(TEXT)
print("distinct", len(counts), "total", len(words))
for w, c in top(counts, 5):
    checkpoint()
    print("%-6s %d" % (w, c))
bg = bigrams(words)
print("bigrams", sorted(bg.items()))
letters = {}
for w in words:
    for ch in w:
        letters[ch] = letters.get(ch, 0) + 1
    checkpoint()
print("letters", sorted(letters.items())[:6])
RESULT = (counts, top(counts, 3), sorted(bg.items()))
