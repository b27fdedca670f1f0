"""A module the corpus imports only after a migration (corpus 82)."""
print("late module loaded")


def triple(x):
    return 3 * x
