"""The official ``wcs.commons.logme`` functions, as plain ``logging`` calls.

The official module adds a stderr handler for every message; here the messages go to the
``wcs.commons.logme`` logger and the application decides where they are shown.
"""

import logging

logger = logging.getLogger(__name__)


def debug(msg: object) -> None:
    logger.debug(msg)


def warning(msg: object) -> None:
    logger.warning(msg)


def error(msg: object) -> None:
    logger.error(msg)


__all__ = ["debug", "error", "logger", "warning"]
