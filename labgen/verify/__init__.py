"""Proof that a lab works: testinfra fixtures, faults, bounded polls and failover measurement."""
