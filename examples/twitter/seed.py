"""Demo data for the Twitter example: five users who follow one another, and a few posts.
`make web` runs it before serving; it leaves a cluster that has users already alone.

    $ swarm run --dir .swarm examples/twitter/seed.py
"""
import app

PEOPLE = ["ada", "grace", "alan", "edsger", "barbara"]
FOLLOWS = [("ada", "grace"), ("ada", "alan"), ("grace", "ada"), ("grace", "edsger"),
           ("alan", "ada"), ("edsger", "barbara"), ("barbara", "grace"), ("barbara", "ada")]
POSTS = [("ada", "The Analytical Engine weaves algebraic patterns #computing"),
         ("grace", "Found a moth in the relay today #debugging"),
         ("alan", "Can machines think? #ai"),
         ("edsger", "Simplicity is prerequisite for reliability"),
         ("barbara", "Data abstraction keeps programs honest #computing"),
         ("grace", "It is easier to ask forgiveness than permission"),
         ("ada", "Programs that move to their data #swarm")]

if len(app.users):
    print(f"the cluster has {len(app.users)} users already: no demo data added")
else:
    for name in PEOPLE:
        app.create_user(name)
    for name, other in FOLLOWS:
        app.add_follow(name, other)
    for name, text in POSTS:
        app.add_post(name, text)
    print(f"demo data: {len(PEOPLE)} users, {len(FOLLOWS)} follows, {len(POSTS)} posts")
