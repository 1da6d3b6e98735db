"""A tiny package whose install writes several .pyc files."""
