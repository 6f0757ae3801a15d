// The Models layer. See docs/architecture.md.
