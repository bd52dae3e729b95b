"""The thin typer layer: each command module parses options, calls the library, emits one result."""
