from swarm import checkpoint
# subprocess
# Defect class 2: a suspension reached through an implicit call (a property getter, an
# operator's dunder, __getitem__, __len__ via len) inside a `try` with a bare `except:` or
# `except BaseException:`. The user's handler must not see the capture: the program goes on
# (here, without migrating at that point) and takes the same branch as natively.


class Account:
    def __init__(self, balance):
        self._balance = balance

    @property
    def balance(self):
        checkpoint()
        return self._balance

    def __add__(self, other):
        checkpoint()
        return Account(self._balance + other)

    def __getitem__(self, i):
        checkpoint()
        return self._balance * i

    def __len__(self):
        checkpoint()
        return 3


def main():
    a = Account(10)
    checkpoint()
    try:
        x = a.balance
    except:  # noqa: E722
        x = "fallback"
    print("property", x)
    try:
        y = (a + 5).balance
    except BaseException:
        y = "fallback"
    print("operator", y)
    try:
        z = a[4]
    except BaseException as e:
        z = f"fallback {type(e).__name__}"
    print("getitem", z)
    try:
        n = len(a)
    except:  # noqa: E722
        n = "fallback"
    print("len", n)
    checkpoint()
    return x, y, z, n


RESULT = main()
