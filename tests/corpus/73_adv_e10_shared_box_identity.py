from swarm import checkpoint
def run():
    x = [0]
    def a():
        x[0] += 1; return x
    def b():
        nonlocal x
        x = x + [9]
        return x
    checkpoint()
    r1 = a()
    b()
    checkpoint()
    r2 = a()
    return r1 is r2, x, r1
RESULT = run()
