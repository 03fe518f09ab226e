"""Offline machine images built from the Debian registry: the shared container/VM root."""
