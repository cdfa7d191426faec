"""Sub-commands beyond `list`, `summary` and `rf`: every module here that defines a click command
named `command` is added to `archstat` on start-up. Keep imports inside the command functions so
that start-up stays fast."""
