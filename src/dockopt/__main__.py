"""``python -m dockopt``."""
import sys

from dockopt.cli import main

sys.exit(main())
