"""YAML in and out. Out, the YAML the portal writes (OpenSLO exports, Prometheus rules):
block style, multi-line text as literal blocks, keys in the order written. In, a safe
loader with bounds (slos/limits.py): how deep the nodes nest, and how many there are
once every alias is expanded, so a hostile file fails fast with a YAML error instead of
exhausting the stack or the memory of a worker."""

from __future__ import annotations

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from slos.limits import MAX_YAML_DEPTH, MAX_YAML_NODES


class BlockDumper(yaml.SafeDumper):
    pass


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


BlockDumper.add_representer(str, _represent_text)


class BoundedSafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses, as a ComposerError: nodes nested deeper than
    `max_depth`; more than `max_nodes` nodes in a stream, an alias counting as every
    node it repeats (so "billion laughs" stops after a few levels); and an alias to a
    node that contains it (a cycle, which nothing downstream could walk); and integers
    longer than Python converts (a ValueError otherwise)."""

    max_depth = MAX_YAML_DEPTH
    max_nodes = MAX_YAML_NODES

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._open_anchors: set[str] = set()
        self._anchored_sizes: dict[str, int] = {}

    def _count(self, nodes: int, mark) -> None:
        self._nodes += nodes
        if self._nodes > self.max_nodes:
            raise ComposerError(
                None,
                None,
                f"more than {self.max_nodes:,} values once aliases are expanded",
                mark,
            )

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise ComposerError(
                    None,
                    None,
                    f"alias *{event.anchor} refers to a node that contains it",
                    event.start_mark,
                )
            self._count(self._anchored_sizes.get(event.anchor, 1), event.start_mark)
            return super().compose_node(parent, index)
        if self._depth >= self.max_depth:
            raise ComposerError(
                None, None, f"nested more than {self.max_depth} levels deep", event.start_mark
            )
        anchor = event.anchor
        before = self._nodes
        self._count(1, event.start_mark)
        self._depth += 1
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(anchor)
        if anchor is not None:
            self._anchored_sizes[anchor] = self._nodes - before
        return node

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than Python converts
            raise ConstructorError(None, None, "integer too long", node.start_mark) from None

    def compose_document(self):
        node = super().compose_document()
        self._anchored_sizes = {}  # anchors are per document
        return node


BoundedSafeLoader.add_constructor("tag:yaml.org,2002:int", BoundedSafeLoader.construct_yaml_int)
