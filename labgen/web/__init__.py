"""`labgen serve`: the class dashboard and each lab live in a browser (Starlette, server-sent events)."""
