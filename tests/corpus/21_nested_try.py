from swarm import checkpoint
# Deeply nested try statements, with handlers at different levels, finally
# blocks running in the right order, and exceptions replaced inside handlers.

order = []


def level3(mode):
    try:
        order.append("l3-try")
        checkpoint()
        if mode == 1:
            raise ValueError("v3")
        if mode == 2:
            raise KeyError("k3")
        if mode == 3:
            raise OSError("o3")
    finally:
        order.append("l3-finally")
        checkpoint()
    return "l3-ok"


def level2(mode):
    try:
        try:
            r = level3(mode)
            checkpoint()
        except ValueError as e:
            checkpoint()
            order.append("l2-inner-except " + str(e))
            r = "l2-fixed"
        finally:
            order.append("l2-inner-finally")
    except KeyError as e:
        checkpoint()
        order.append("l2-outer-except " + str(e))
        raise LookupError("translated") from None
    else:
        checkpoint()
        order.append("l2-else")
    finally:
        checkpoint()
        order.append("l2-finally")
    return r


def level1(mode):
    try:
        try:
            return level2(mode)
        except LookupError as e:
            checkpoint()
            order.append("l1-lookup " + str(e) + " suppress=" + str(e.__suppress_context__))
            return "l1-lookup"
    except OSError as e:
        checkpoint()
        order.append("l1-os " + str(e))
        return "l1-os"


results = []
for mode in range(4):
    del order[:]
    r = level1(mode)
    checkpoint()
    print(mode, r)
    for o in order:
        print("   ", o)
    results.append((r, list(order)))
RESULT = results
