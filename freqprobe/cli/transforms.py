"""``freqprobe transforms``: the registered transforms and their spec grammar."""

from __future__ import annotations

import argparse

NAME = "transforms"
HELP = "list the registered transforms and their spec grammar"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace) -> None:
    from ..transforms import REGISTRY, usage

    for name in sorted(REGISTRY):
        print(f"{usage(name)[len('usage: '):]:<58} {REGISTRY[name].summary}")
