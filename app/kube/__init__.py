"""The only package that imports ``kubernetes``: cluster access, discovery, error translation."""
