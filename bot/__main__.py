"""`python -m bot` is the same as `learncity`."""

from bot.cli import main

raise SystemExit(main())
