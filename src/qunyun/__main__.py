"""``python -m qunyun`` is the same as the ``qunyun`` command."""

from qunyun.cli import main

main()
