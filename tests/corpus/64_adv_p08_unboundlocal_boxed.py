from swarm import checkpoint
def run():
    try:
        print(x)
    except UnboundLocalError:
        r = 'UnboundLocalError'
    x = 1
    def get(): return x
    checkpoint()
    return r
RESULT = run()
