"""``python -m server.cli``: the same as the ``racecontrol`` command."""

from server.cli.main import main

raise SystemExit(main())
