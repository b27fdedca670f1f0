from swarm import checkpoint
# User code raises exceptions after a checkpoint (custom exception classes with
# attributes, raise in deep frames, raise ... from ...), caught higher up.


class ValidationError(Exception):
    def __init__(self, field, msg):
        super().__init__("%s: %s" % (field, msg))
        self.field = field


def validate(rec):
    checkpoint()
    if "name" not in rec:
        raise ValidationError("name", "missing")
    checkpoint()
    if rec.get("age", 0) < 0:
        raise ValidationError("age", "negative")
    return True


def deep(n, rec):
    checkpoint()
    if n == 0:
        return validate(rec)
    return deep(n - 1, rec)


records = [{"name": "a", "age": 3}, {"age": 5}, {"name": "b", "age": -1}]
res = []
for rec in records:
    try:
        ok = deep(10, rec)
        checkpoint()
        res.append(("ok", ok))
    except ValidationError as err:
        checkpoint()
        res.append(("err", err.field, str(err)))
print("res", res)


def convert(s):
    try:
        checkpoint()
        return int(s)
    except ValueError as e:
        checkpoint()
        raise ValidationError("int", "cannot parse " + repr(s)) from e


for s in ["12", "x1"]:
    try:
        print("convert", convert(s))
    except ValidationError as e:
        checkpoint()
        print("chained", str(e), type(e.__cause__).__name__, e.__cause__ is not None)
        res.append(("chained", e.field, type(e.__cause__).__name__))


def raise_plain():
    x = [1, 2, 3]
    checkpoint()
    return x[10]


try:
    raise_plain()
except IndexError as e:
    print("IndexError", e)
    res.append(("index", str(e)))
RESULT = res
