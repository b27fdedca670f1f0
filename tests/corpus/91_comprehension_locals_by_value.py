from swarm import checkpoint
# subprocess
# A comprehension gets the locals it reads by value (bound for certain, not rebound by a
# nested scope): `self` stays a plain local; a generator expression still sees them late;
# a closure's nonlocal is still shared.
class W:
    def __init__(self, i): self.i = i; self.ids = [i, i+1, i+2]
class C:
    def big(self, w):
        checkpoint()
        return w.i % 3 == 0
    def run(self, ws):
        ws2 = [w for w in ws if not self.big(w)]
        idx = {w.i: w for w in ws2}
        d = {w.i: [idx.get(j) for j in w.ids] for w in ws2}
        n = 0
        def bump():
            nonlocal n
            n += 1
            return n
        late = [bump() + n for _ in range(3)]
        g = (self.big(w) for w in ws2)
        first = next(g)
        return len(d), late, first, sum(1 for v in d.values() if v[0] is not None)
print(C().run([W(i) for i in range(10)]))
RESULT = 1
