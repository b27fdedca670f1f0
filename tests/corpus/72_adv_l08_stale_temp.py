from swarm import checkpoint
import threading
def run():
    n = len([threading.Lock()])
    checkpoint()
    return n
RESULT = run()
