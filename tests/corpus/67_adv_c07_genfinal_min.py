from swarm import checkpoint
def gen():
    try:
        yield 1
    finally:
        print('fin')
def run():
    g = gen()
    next(g)
    checkpoint()
run()
print('end')
