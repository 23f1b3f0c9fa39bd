"""``python -m autoglm.service serve|keys ...``: the service commands without the main CLI."""

from autoglm.service.cli import service_main

service_main(prog_name="python -m autoglm.service")
