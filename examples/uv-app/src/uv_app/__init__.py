"""Prints the PyYAML version and whether its libyaml (C) loader is there: proof the extension was compiled."""

import yaml


def main() -> None:
    with_c = getattr(yaml, "__with_libyaml__", False)
    print(f"uv-app: PyYAML {yaml.__version__}, libyaml {'yes' if with_c else 'no'}")
    yaml.load("a: 1", Loader=yaml.CLoader)
