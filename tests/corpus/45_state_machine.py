from swarm import checkpoint
# A table-driven state machine (a vending machine / a tokenizer) with states
# as methods chosen dynamically by name via getattr, transitions and actions
# checkpointing, and an error state reached via an exception.


class Vending:
    PRICES = {"cola": 150, "chips": 100, "gum": 50}

    def __init__(self):
        self.state = "idle"
        self.credit = 0
        self.log = []
        self.dispensed = []

    def handle(self, event, arg=None):
        checkpoint()
        method = getattr(self, "on_" + self.state)
        before = self.state
        try:
            self.state = method(event, arg)
        except ValueError as e:
            checkpoint()
            self.log.append("error in %s: %s" % (before, e))
            self.state = "idle" if self.credit == 0 else "paying"
        checkpoint()
        self.log.append("%s --%s(%s)--> %s [credit %d]" % (before, event, arg, self.state, self.credit))

    def on_idle(self, event, arg):
        if event == "coin":
            self.credit += arg
            checkpoint()
            return "paying"
        raise ValueError("insert coin first")

    def on_paying(self, event, arg):
        if event == "coin":
            self.credit += arg
            return "paying"
        if event == "select":
            price = self.PRICES.get(arg)
            checkpoint()
            if price is None:
                raise ValueError("no such item " + str(arg))
            if price > self.credit:
                raise ValueError("need %d more" % (price - self.credit))
            self.credit -= price
            self.dispensed.append(arg)
            return "change" if self.credit else "idle"
        if event == "refund":
            checkpoint()
            self.log.append("refund %d" % self.credit)
            self.credit = 0
            return "idle"
        raise ValueError("bad event " + event)

    def on_change(self, event, arg):
        checkpoint()
        self.log.append("returned change %d" % self.credit)
        self.credit = 0
        return self.on_idle(event, arg) if event == "coin" else "idle"


m = Vending()
events = [("select", "gum"), ("coin", 100), ("select", "cola"), ("coin", 100),
          ("select", "cola"), ("coin", 25), ("select", "tea"), ("select", "chips"),
          ("coin", 200), ("refund", None), ("coin", 50), ("select", "gum")]
for ev, arg in events:
    m.handle(ev, arg)
    checkpoint()
for line in m.log:
    print(line)
print("dispensed", m.dispensed, "state", m.state)


def lex(s):
    state = "start"
    tok = ""
    out = []
    for ch in s + " ":
        checkpoint()
        if state == "start":
            if ch.isdigit():
                state, tok = "num", ch
            elif ch.isalpha():
                state, tok = "ident", ch
            elif ch != " ":
                out.append(("op", ch))
        elif state == "num":
            if ch.isdigit():
                tok += ch
            else:
                out.append(("num", int(tok)))
                state = "start"
                if ch != " ":
                    out.append(("op", ch))
        elif state == "ident":
            if ch.isalnum():
                tok += ch
            else:
                out.append(("ident", tok))
                state = "start"
                if ch != " ":
                    out.append(("op", ch))
    return out


toks = lex("x1 = 42+y*7")
print("tokens", toks)
RESULT = (m.log, m.dispensed, toks)
