"""The graph-clustering placer (the placement issue). Nothing here yet: the runtime's hot path
never imports this package."""
