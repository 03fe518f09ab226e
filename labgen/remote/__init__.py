"""Other hosts of a class, reached over ssh."""
