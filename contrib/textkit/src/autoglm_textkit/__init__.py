"""Pure-Python text nodes for autoglm: the example of a third-party plugin package."""
