"""labgen: reproducible high-availability teaching labs."""

__version__ = "0.1.0"
