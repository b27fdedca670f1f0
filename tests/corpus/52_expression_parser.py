from swarm import checkpoint
# A recursive-descent parser and evaluator for arithmetic expressions with
# variables and function calls: tokenizer generator (checkpointing), parser
# class with mutually recursive methods, AST as tuples, evaluator with an
# environment dict, syntax errors as exceptions.


class ParseError(Exception):
    pass


def tokenize(src):
    i = 0
    while i < len(src):
        ch = src[i]
        if ch.isspace():
            i += 1
            continue
        checkpoint()
        if ch.isdigit():
            j = i
            while j < len(src) and src[j].isdigit():
                j += 1
            yield ("num", int(src[i:j]))
            i = j
        elif ch.isalpha():
            j = i
            while j < len(src) and src[j].isalnum():
                j += 1
            yield ("name", src[i:j])
            i = j
        elif ch in "+-*/(),":
            yield ("op", ch)
            i += 1
        else:
            raise ParseError("bad char %r" % ch)
    yield ("end", None)


class Parser:
    def __init__(self, src):
        self.toks = []
        for t in tokenize(src):
            self.toks.append(t)
        self.pos = 0

    def peek(self):
        return self.toks[self.pos]

    def eat(self, kind, val=None):
        checkpoint()
        t = self.toks[self.pos]
        if t[0] != kind or (val is not None and t[1] != val):
            raise ParseError("expected %s %s, got %s" % (kind, val, t))
        self.pos += 1
        return t

    def expr(self):
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.eat("op")[1]
            checkpoint()
            node = (op, node, self.term())
        return node

    def term(self):
        node = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.eat("op")[1]
            node = (op, node, self.factor())
        return node

    def factor(self):
        checkpoint()
        kind, val = self.peek()
        if kind == "num":
            self.eat("num")
            return ("num", val)
        if kind == "op" and val == "-":
            self.eat("op")
            return ("neg", self.factor())
        if kind == "op" and val == "(":
            self.eat("op", "(")
            node = self.expr()
            self.eat("op", ")")
            return node
        if kind == "name":
            self.eat("name")
            if self.peek() == ("op", "("):
                self.eat("op", "(")
                args = [self.expr()]
                while self.peek() == ("op", ","):
                    self.eat("op", ",")
                    args.append(self.expr())
                self.eat("op", ")")
                return ("call", val, args)
            return ("var", val)
        raise ParseError("unexpected %s" % (self.peek(),))


FUNCS = {
    "max": lambda *a: max(a),
    "sq": lambda x: x * x,
}


def evaluate(node, env):
    checkpoint()
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "var":
        return env[node[1]]
    if kind == "neg":
        return -evaluate(node[1], env)
    if kind == "call":
        args = [evaluate(a, env) for a in node[2]]
        checkpoint()
        return FUNCS[node[1]](*args)
    a = evaluate(node[1], env)
    b = evaluate(node[2], env)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    return a // b


env = {"x": 6, "y": 7}
results = []
for src in ["1 + 2 * 3", "(x + y) * -2", "max(x, sq(y) - 40, 3) / 2", "x * (y - (1 + 2)",
            "2 $ 3", "sq(sq(2)) - -x"]:
    try:
        ast = Parser(src).expr()
        val = evaluate(ast, env)
        checkpoint()
        print(src, "=>", ast, "=", val)
        results.append(val)
    except ParseError as e:
        checkpoint()
        print(src, "!!", e)
        results.append("error")
RESULT = results
