"""`spawn(fn, *args)` runs fn as a task next to its Ref arguments; `f.get()` waits for it.

    $ swarm run examples/spawn_futures.py
    one document per node; the program is on n1
    spawned a task on n2, next to its document; the program is still on n1
    the result: 6 words, counted on n2; the program moved to it, on n2
    fan-out: 5 words counted on n1, gathered on n1
    fan-out: 6 words counted on n2, gathered on n2
    fan-out: 0 words counted on n3, gathered on n3
    11 words in all, on n3
    the task failed: ZeroDivisionError: division by zero; caught on n3
"""
from swarm import Ref, TaskFailed, here, move_to, spawn


def count_words(doc):  # a task: it runs where spawn placed it, with the document
    return len(doc.get().split()), here()  # read locally; (count, where) is its result


def average_length(doc):
    words = doc.get().split()
    return sum(len(w) for w in words) / len(words)  # an empty document divides by zero


texts = {"n1": "the queen lays the eggs", "n2": "workers forage for nectar and pollen", "n3": ""}
docs = [Ref(text, at=node) for node, text in texts.items()]  # (the program visits each node)
move_to("n1")
print("one document per node; the program is on", here())

f = spawn(count_words, docs[1])  # placed on the node holding its Ref argument: n2
print(f"spawned a task on {f.home}, next to its document; the program is still on {here()}")
count, where = f.get()  # moves the program to the future's home, waits there for the result
print(f"the result: {count} words, counted on {where}; the program moved to it, on {here()}")

# Fan out: one task per document, each on its document's node, all running at once; then
# gather. Only this program prints: a task's prints reach the terminal when it ends or
# moves, mixed in with ours at that grain - returning values keeps the output in order.
futures = [spawn(count_words, doc) for doc in docs]
total = 0
for f in futures:
    count, where = f.get()
    total += count
    print(f"fan-out: {count} words counted on {where}, gathered on {here()}")
print(total, "words in all, on", here())

try:
    spawn(average_length, docs[2]).get()  # the task raises: get() raises TaskFailed
except TaskFailed as e:
    print(f"the task failed: {e}; caught on {here()}")
