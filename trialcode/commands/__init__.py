"""Subcommands of the `trialcode` CLI, one module each, each exposing `register(subparsers)`."""
