"""A module the corpus imports only after a migration (corpus 82; not a corpus program: the
corpus is the files whose names start with a digit)."""
print("late module loaded")


def triple(x):
    return 3 * x
