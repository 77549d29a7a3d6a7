"""CLI subcommands: each module adds its parser and a handler that parses, calls, prints."""
