"""Zordon: a render farm manager for a few to a few dozen machines."""

__version__ = "0.1.0"
API_VERSION = "0.1"
