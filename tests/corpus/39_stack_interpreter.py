from swarm import checkpoint
# subprocess
# An interpreter for a tiny stack language (push/arith/dup/swap/jumps/calls/
# print), checkpointing on every instruction and in nested calls of the VM.


class VMError(Exception):
    pass


class VM:
    def __init__(self, program):
        self.program = program
        self.stack = []
        self.calls = []
        self.out = []
        self.steps = 0

    def pop(self):
        checkpoint()
        if not self.stack:
            raise VMError("stack underflow at step %d" % self.steps)
        return self.stack.pop()

    def binop(self, op):
        b = self.pop()
        a = self.pop()
        checkpoint()
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "lt":
            return 1 if a < b else 0
        raise VMError("bad op " + op)

    def step(self, pc):
        ins = self.program[pc]
        op = ins[0]
        self.steps += 1
        checkpoint()
        if op == "push":
            self.stack.append(ins[1])
        elif op in ("add", "sub", "mul", "lt"):
            self.stack.append(self.binop(op))
        elif op == "dup":
            v = self.pop()
            self.stack.extend([v, v])
        elif op == "swap":
            b, a = self.pop(), self.pop()
            self.stack.extend([b, a])
        elif op == "jz":
            if self.pop() == 0:
                return ins[1]
        elif op == "jmp":
            return ins[1]
        elif op == "call":
            self.calls.append(pc + 1)
            return ins[1]
        elif op == "ret":
            return self.calls.pop()
        elif op == "print":
            v = self.pop()
            checkpoint()
            self.out.append(v)
            print("OUT", v)
        elif op == "halt":
            return -1
        else:
            raise VMError("unknown " + op)
        return pc + 1

    def run(self):
        pc = 0
        while pc >= 0:
            pc = self.step(pc)
        return self.out


# countdown from 5, printing n*n via a subroutine
prog = [
    ("push", 5),          # 0
    ("dup",),             # 1
    ("jz", 9),            # 2
    ("dup",),             # 3
    ("call", 11),         # 4  square & print
    ("push", 1),          # 5
    ("sub",),             # 6
    ("jmp", 1),           # 7
    ("halt",),            # 8
    ("halt",),            # 9
    ("halt",),            # 10
    ("dup",),             # 11 square subroutine
    ("mul",),             # 12
    ("print",),           # 13
    ("ret",),             # 14
]
vm = VM(prog)
checkpoint()
out = vm.run()
print("out", out, "steps", vm.steps, "stack", vm.stack)

bad = VM([("push", 1), ("add",), ("halt",)])
try:
    bad.run()
except VMError as e:
    checkpoint()
    print("VMError", e)
RESULT = (out, vm.steps, vm.stack)
