"""Functions for the python executor cases (525-527): spawn_exec("python", {"function": "skyhelpers:add", ...})."""


def add(a, b):
    return a + b


def mean(xs):
    return sum(xs) / len(xs)


def split_words(s):
    return s.split()
