"""Naive recursive Fibonacci: call-heavy, tiny frames."""

N = 32


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def run():
    return fib(N)
