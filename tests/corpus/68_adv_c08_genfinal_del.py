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
    del g
    print('after del')
run()
print('end')
