"""Classrooms: a lab per student seat, reached only through the seat's own account.

seats.py      the class on this host: its seats, their labs, the roster (LABGEN_HOME/class)
accounts.py   the seats' local accounts, made and removed by labgen only
boundary.py   the privilege boundary: a sudoers rule naming exactly labgen-seat, the seat files
seat.py       labgen-seat, the one command a seat runs as root: its own lab, a few verbs
limits.py     the kernel limits N seats need, raised for the class and put back afterwards
"""
