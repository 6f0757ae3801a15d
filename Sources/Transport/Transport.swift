// The Transport layer. See docs/architecture.md.
