from swarm import checkpoint
# Mixed: an inventory system with a class hierarchy, a transaction context
# manager that rolls back on error (suppressing it) and commits otherwise,
# checkpoints inside transactions, comprehensions over stock, closures for
# pricing rules, and a decorator logging operations.

audit = []


def logged(fn):
    def wrapper(self, *a, **kw):
        checkpoint()
        audit.append("%s%s" % (fn.__name__, a))
        return fn(self, *a, **kw)
    return wrapper


class OutOfStock(Exception):
    pass


class Transaction:
    def __init__(self, inv):
        self.inv = inv

    def __enter__(self):
        self.snapshot = dict(self.inv.stock)
        audit.append("begin")
        return self

    def __exit__(self, t, v, tb):
        if t is None:
            audit.append("commit")
            return False
        self.inv.stock = self.snapshot
        audit.append("rollback: %s" % v)
        return issubclass(t, OutOfStock)


class Inventory:
    def __init__(self):
        self.stock = {}

    @logged
    def add(self, item, qty):
        checkpoint()
        self.stock[item] = self.stock.get(item, 0) + qty

    @logged
    def remove(self, item, qty):
        have = self.stock.get(item, 0)
        checkpoint()
        if have < qty:
            raise OutOfStock("%s: have %d, want %d" % (item, have, qty))
        self.stock[item] = have - qty

    def value(self, price_of):
        return sum(price_of(i) * q for i, q in sorted(self.stock.items()))


class TrackedInventory(Inventory):
    def __init__(self):
        super().__init__()
        self.moves = 0

    def remove(self, item, qty):
        checkpoint()
        super().remove(item, qty)
        self.moves += 1


def pricing(base, discount_over):
    def price_of(item):
        checkpoint()
        p = base.get(item, 1)
        return p - 1 if p > discount_over else p
    return price_of


inv = TrackedInventory()
with Transaction(inv):
    inv.add("bolt", 100)
    checkpoint()
    inv.add("nut", 50)
    inv.add("gear", 5)
print("after tx1", inv.stock)
with Transaction(inv):
    inv.remove("bolt", 30)
    checkpoint()
    inv.remove("gear", 10)
    inv.remove("nut", 1)
print("after tx2 (rolled back)", inv.stock, inv.moves)
with Transaction(inv):
    inv.remove("nut", 20)
    checkpoint()
print("after tx3", inv.stock, inv.moves)
price = pricing({"bolt": 2, "nut": 1, "gear": 30}, 10)
print("value", inv.value(price))
low = [item for item, q in sorted(inv.stock.items()) if q < price(item) * 10]
print("low stock", low)
for line in audit:
    print(line)
RESULT = (inv.stock, inv.moves, audit, low)
