"""What looks like a secret: paths and file contents (``detect``), and the string checks it
builds on, names, values, token formats and URLs (``text``). Shared by every DO2xx rule."""
