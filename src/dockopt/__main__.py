"""``python -m dockopt``."""
import sys

from dockopt.cli.main import main

sys.exit(main())
