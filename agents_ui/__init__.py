"""The web: HTTP API handlers, authentication, and the consoles' static pages."""
