"""The autoglm REST service: runs workflows submitted over HTTP on a durable queue.

Importing this package is light on purpose (no FastAPI, no uvicorn): ``autoglm.service.cli``
holds the click commands the main CLI attaches, and only ``autoglm serve`` imports the web
stack (``autoglm.service.app``). ``autoglm.service.schemas`` holds the request and response
models shared with the SDK (``autoglm.client``).
"""
