"""The ``dockopt`` command line: ``main`` parses arguments and hands each subcommand to its module.

- ``main``: the argument parser and dispatch (``dockopt = "dockopt.cli.main:main"``);
- ``lint``: ``check`` and ``fix``; ``misc``: ``rule`` and ``layers``;
  ``verify`` lives in :mod:`dockopt.verify.command`;
- ``exit_codes``: the exit codes all of them share.
"""
