"""`spawn(fn, *args)` runs fn as a task next to its Ref arguments; `f.get()` waits for it.

    $ swarm run examples/spawn_futures.py
    one document per node; the program is on n1
    spawned a task on n2, next to its document; the program is still on n1
    the result: 6 words, counted on n2; the program moved there to wait for it: n2
    fan-out: 5 words counted on n1
    fan-out: 6 words counted on n2
    fan-out: 0 words counted on n3
    11 words in all
    as_completed gave each once: [0, 5, 6]
    the task failed: ZeroDivisionError: division by zero
"""
import time

from swarm import Ref, TaskFailed, as_completed, here, move_to, spawn


def count_words(doc):  # a task: it runs where spawn placed it, with the document
    return len(doc.get().split()), here()  # read locally; (count, where) is its result


def count_slowly(doc):
    time.sleep(0.5)  # (still running when get() is called)
    return count_words(doc)


def average_length(doc):
    words = doc.get().split()
    return sum(len(w) for w in words) / len(words)  # an empty document divides by zero


texts = {"n1": "the queen lays the eggs", "n2": "workers forage for nectar and pollen", "n3": ""}
docs = [Ref(text, at=node) for node, text in texts.items()]  # (the program visits each node)
move_to("n1")
print("one document per node; the program is on", here())

f = spawn(count_slowly, docs[1])  # placed on the node holding its Ref argument: n2
print(f"spawned a task on {f.home}, next to its document; the program is still on {here()}")
count, where = f.get()  # not finished: moves the program to the future's home, waits there
print(f"the result: {count} words, counted on {where}; the program moved there to wait for "
      f"it: {here()}")

# Fan out: one task per document, each on its document's node, all running at once; then
# gather (a small result already there is read without moving). Only this program prints:
# a task's output is interleaved with ours as it comes - returning values keeps it in order.
futures = [spawn(count_words, doc) for doc in docs]
total = 0
for f in futures:
    count, where = f.get()
    total += count
    print(f"fan-out: {count} words counted on {where}")
print(total, "words in all")
finished = [f.get()[0] for f in as_completed(futures)]  # all done: each once
print("as_completed gave each once:", sorted(finished))

try:
    spawn(average_length, docs[2]).get()  # the task raises: get() raises TaskFailed
except TaskFailed as e:
    print(f"the task failed: {e}")
