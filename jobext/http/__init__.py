"""The REST layer: the base handler (the one error mapper), routes, OpenAPI."""
