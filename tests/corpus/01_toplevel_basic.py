from swarm import checkpoint
# subprocess
# Checkpoints at module top level, locals/globals surviving each resume.

x = 1
print("start", x)
checkpoint()
x += 41
print("after first", x)
items = [x, x * 2, "hello", (1, 2), {"k": [3, 4]}]
checkpoint()
items.append(len(items))
print("items", items)
name = "swarm"
checkpoint()
print("name", name.upper(), name[::-1])
total = 0
for i in range(5):
    total += i * x
    checkpoint()
    print("loop", i, total)
checkpoint()
nested = {"a": {"b": {"c": [1, 2, 3]}}}
nested["a"]["b"]["c"].append(total)
checkpoint()
print("nested", nested)
RESULT = (x, items, name, total, nested)
