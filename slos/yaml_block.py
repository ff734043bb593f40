"""The YAML the portal writes (OpenSLO exports, Prometheus rules): block style,
multi-line text as literal blocks, keys in the order written."""

from __future__ import annotations

import yaml


class BlockDumper(yaml.SafeDumper):
    pass


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


BlockDumper.add_representer(str, _represent_text)
