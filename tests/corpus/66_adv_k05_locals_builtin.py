from swarm import checkpoint
def run(a, b=2):
    c = 3
    checkpoint()
    d = 4
    return sorted(locals().items())
RESULT = run(1)
