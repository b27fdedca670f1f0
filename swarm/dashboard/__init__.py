"""The live dashboard of a cluster (`swarm dashboard`): docs/dashboard.md."""
