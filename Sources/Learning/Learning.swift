// The Learning layer. See docs/architecture.md.
