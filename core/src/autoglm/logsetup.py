"""structlog configuration: a readable console by default, JSON lines with ``--json-logs``.

Logs go to stderr so that stdout carries only results (tables, JSON) that scripts may parse.
"""

from __future__ import annotations

import logging
import sys

import structlog

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(*, json_logs: bool = False, level: str = "info") -> None:
    """Configure structlog for the process (the CLI and the service call this once)."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS.get(level.lower(), 20)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def ensure_logging() -> None:
    """Give library use (tests, notebooks, benchmarks) quiet defaults unless configured."""
    if not structlog.is_configured():
        configure_logging(level="warning")
