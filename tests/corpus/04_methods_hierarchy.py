from swarm import checkpoint
# Methods, class hierarchies with overriding, zero-argument super() in methods.


class Shape:
    def __init__(self, name):
        self.name = name
        self.log = []

    def area(self):
        checkpoint()
        return 0

    def describe(self):
        self.log.append("describe:" + self.name)
        checkpoint()
        a = self.area()
        checkpoint()
        return "%s area=%s" % (self.name, a)

    def scale(self, k):
        checkpoint()
        self.log.append("scale %s" % k)
        return self


class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w = w
        self.h = h

    def area(self):
        base = super().area()
        checkpoint()
        return base + self.w * self.h

    def scale(self, k):
        self.w *= k
        checkpoint()
        self.h *= k
        return super().scale(k)


class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s)
        self.name = "square"

    def describe(self):
        checkpoint()
        text = super().describe()
        checkpoint()
        return "[" + text + "]"


class Circle(Shape):
    def __init__(self, r):
        super().__init__("circle")
        self.r = r

    def area(self):
        checkpoint()
        return 3 * self.r * self.r


shapes = [Rect(2, 3), Square(4), Circle(5), Shape("blob")]
checkpoint()
outs = []
for s in shapes:
    d = s.describe()
    checkpoint()
    print(d)
    outs.append(d)

sq = shapes[1]
sq.scale(2).scale(3)
checkpoint()
print("scaled square", sq.w, sq.h, sq.describe())
print("mro", [c.__name__ for c in type(sq).__mro__])
for s in shapes:
    print(s.name, s.log)
RESULT = (outs, sq.w, sq.h, [s.log for s in shapes])
