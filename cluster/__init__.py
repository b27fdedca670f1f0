"""The graph-clustering placer (DESIGN.md §5), pure and cluster-free.

- `cluster.graph`: merge the nodes' access reports into one networkx graph of Refs (the report
  format is in its docstring), and measure an assignment of Refs to nodes (cut weight, bytes per
  node, balance);
- `cluster.policies`: placement policies, pure functions from a graph to a target assignment
  (`hash_placement`, `keep`, `clustered`);
- `cluster.partition` and `cluster.refine`: the balanced min-cut partition behind `clustered`
  (Louvain communities packed into parts, then repair, greedy moves and swaps, FM passes);
- `cluster.mapping`: parts to nodes so that the fewest bytes move;
- `cluster.placer`: `plan` turns a policy's target into moves and `describe` summarizes them.

Nothing here talks to a node: the runtime's hot path never imports this package.
"""
