from swarm import checkpoint
# subprocess
# A suspension in an `except` handler inside a loop over a method call's iterator, followed
# by a bare `raise`: the capture unwinds through the handler (which deletes its exception's
# name) and then through the loop's own handler, whose locals() used to update the record
# already taken - the exception was lost (UnboundLocalError after the hop). Found by
# tests/test_random_programs.py.


def f0():
    d = {"a": 0, "d": 4}
    for k, v in d.items():
        try:
            print("p2", 0.0 / 0.0)
        except (ValueError, ZeroDivisionError):
            print("p5", k)
            checkpoint()
            raise
        finally:
            print("finally", v)
    return 0


try:
    print("f0", f0())
except Exception as e:
    print("caught", type(e).__name__, e)
checkpoint()
RESULT = "done"
