from swarm import checkpoint
def v(x):
    checkpoint(); return x
def run():
    def f(b=v(1), *, c=v(2)):
        return b + c
    return f()
RESULT = run()
