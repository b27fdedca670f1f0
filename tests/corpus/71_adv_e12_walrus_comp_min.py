from swarm import checkpoint
def run():
    return [y for x in range(3) if (y := x * 2)]
checkpoint()
RESULT = run()
