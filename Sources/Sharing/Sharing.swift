// The Sharing layer. See docs/architecture.md.
