// The Topology layer. See docs/architecture.md.
