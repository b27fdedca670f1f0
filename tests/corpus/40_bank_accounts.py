from swarm import checkpoint
# A bank-account simulation: account class hierarchy, a bank with transfers,
# overdraft exceptions, interest via classmethod, an audit log, checkpoints
# in every operation.


class InsufficientFunds(Exception):
    pass


class Account:
    rate = 0

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        self.history = []

    def deposit(self, amt):
        checkpoint()
        if amt <= 0:
            raise ValueError("deposit must be positive")
        self.balance += amt
        self.history.append(("dep", amt))
        return self.balance

    def withdraw(self, amt):
        checkpoint()
        if amt > self.limit():
            raise InsufficientFunds("%s cannot withdraw %d" % (self.owner, amt))
        self.balance -= amt
        checkpoint()
        self.history.append(("wd", amt))
        return self.balance

    def limit(self):
        return self.balance

    @classmethod
    def interest_for(cls, balance):
        checkpoint()
        return balance * cls.rate // 100


class Savings(Account):
    rate = 5

    def withdraw(self, amt):
        checkpoint()
        if len([h for h in self.history if h[0] == "wd"]) >= 2:
            raise InsufficientFunds("savings withdrawal limit for " + self.owner)
        return super().withdraw(amt)


class Checking(Account):
    rate = 1

    def __init__(self, owner, balance=0, overdraft=50):
        super().__init__(owner, balance)
        self.overdraft = overdraft

    def limit(self):
        return self.balance + self.overdraft


class Bank:
    def __init__(self):
        self.accounts = {}
        self.audit = []

    def open(self, kind, owner, balance):
        acct = kind(owner, balance)
        checkpoint()
        self.accounts[owner] = acct
        self.audit.append("open %s %s %d" % (kind.__name__, owner, balance))
        return acct

    def transfer(self, src, dst, amt):
        a, b = self.accounts[src], self.accounts[dst]
        try:
            a.withdraw(amt)
            checkpoint()
        except InsufficientFunds as e:
            checkpoint()
            self.audit.append("FAILED: " + str(e))
            return False
        else:
            b.deposit(amt)
            self.audit.append("transfer %s->%s %d" % (src, dst, amt))
            return True
        finally:
            self.audit.append("checked %s" % src)

    def month_end(self):
        for owner in sorted(self.accounts):
            acct = self.accounts[owner]
            interest = type(acct).interest_for(acct.balance)
            if interest > 0:
                acct.deposit(interest)
                checkpoint()
                self.audit.append("interest %s %d" % (owner, interest))

    def total(self):
        return sum(self.balance_of(o) for o in self.accounts)

    def balance_of(self, owner):
        checkpoint()
        return self.accounts[owner].balance


bank = Bank()
bank.open(Savings, "alice", 1000)
bank.open(Checking, "bob", 100)
bank.open(Account, "carol", 10)
checkpoint()
ops = [("alice", "bob", 200), ("bob", "carol", 280), ("carol", "alice", 500),
       ("alice", "carol", 10), ("alice", "bob", 1), ("bob", "alice", 5)]
results = []
for src, dst, amt in ops:
    ok = bank.transfer(src, dst, amt)
    checkpoint()
    results.append(ok)
    print("transfer", src, dst, amt, ok, {o: bank.balance_of(o) for o in sorted(bank.accounts)})
bank.month_end()
try:
    bank.accounts["carol"].deposit(-5)
except ValueError as e:
    print("ValueError", e)
print("total", bank.total())
for line in bank.audit:
    print(line)
RESULT = (results, {o: a.balance for o, a in bank.accounts.items()}, bank.audit)
