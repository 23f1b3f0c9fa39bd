"""Pure-Python text nodes for autoglm (a splitter and a keyword router): the example third-party plugin"""
