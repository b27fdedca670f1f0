from swarm import checkpoint
def run():
    x = 1
    checkpoint()
    return sorted(locals())
RESULT = run()
