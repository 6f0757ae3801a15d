// The Datasets layer. See docs/architecture.md.
