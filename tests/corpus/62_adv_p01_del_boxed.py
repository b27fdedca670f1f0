from swarm import checkpoint
def run():
    x = 1
    def get():
        try:
            return x
        except NameError:
            return 'unbound'
    checkpoint()
    del x
    checkpoint()
    r1 = get()
    x = 5
    checkpoint()
    return r1, get()
RESULT = run()
