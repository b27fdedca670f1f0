import shapes
from shapes import Rect, total_area

from swarm import checkpoint

rs = [Rect(2, 3), Rect(4, 5)]
checkpoint()
print("areas", [r.area() for r in rs])
print("total", total_area(rs))
import shapes as again

print("same module after migrating:", again is shapes, shapes.created)
RESULT = (total_area(rs), len(shapes.created))
