from swarm import checkpoint
def run():
    def get():
        return y
    checkpoint()
    try:
        return get()
    except NameError:
        return 'NameError'
    y = 1
RESULT = run()
