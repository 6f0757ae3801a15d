// The Config layer. See docs/architecture.md.
