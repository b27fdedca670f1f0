from swarm import checkpoint
# subprocess
# Defect classes 6, 7, 11: a user module imported for the first time after a migration
# resumes in every other process (its source travels; its top level runs once), and
# io.StringIO / io.BytesIO are values that travel with their contents and position.
import io

buf = io.StringIO()
buf.write("hello ")
raw = io.BytesIO(b"abcdef")
raw.read(2)
checkpoint()


def work():
    import late_helper as late

    checkpoint()
    out = late.triple(7)
    checkpoint()
    return out


print(work())
buf.write("world")
checkpoint()
print(buf.getvalue(), raw.read(2), raw.tell())
checkpoint()
RESULT = work()
