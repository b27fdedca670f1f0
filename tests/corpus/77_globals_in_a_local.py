from swarm import checkpoint
# subprocess
# Defect class 3: a variable holding globals() must be the module's dict after a hop (writes
# through it were lost: it had become a copy).

def bump(g):
    checkpoint()
    g["counter"] = g.get("counter", 0) + 1

def main():
    g = globals()
    for i in range(3):
        bump(g)
        checkpoint()
        g["seen"] = i
    print(counter, seen, g is globals())

G = globals()
main()
checkpoint()
G["late"] = 7
print(late, G is globals())
RESULT = (counter, seen, late)
