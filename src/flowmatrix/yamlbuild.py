"""Plain data from a composed YAML node graph, within a budget.

libyaml composes the node graph (an alias is the same node object again); this module
turns it into dicts, lists and scalars without recursion, and refuses, at the line and
column of the node concerned:

- nesting deeper than :data:`MAX_DEPTH` levels;
- aliases that would expand the document past :data:`EXPANSION_FACTOR` times the size of
  the file, counted both in nodes and in characters of scalars (a 484-byte "billion
  laughs" file stays 484 bytes of YAML, but its data is 10^9 strings once validated);
- an alias that refers to the node it is in (a recursive document).

Merge keys (``<<: *base``) are applied as YAML says (the mapping's own keys win, then
the first mapping merged), with each merged mapping counted in the budget; a key given
twice in one mapping is refused.
"""

from __future__ import annotations

from typing import Any

from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flowmatrix.errors import UserError
from flowmatrix.i18n import _, ngettext
from flowmatrix.inputfile import clip, quote

#: How deep mappings and lists may nest (a site nests about 6 levels).
MAX_DEPTH = 100
#: Aliases may make the data this many times the file's size, no more.
EXPANSION_FACTOR = 10
#: A floor, so that a tiny file may still use an anchor a few times.
MIN_BUDGET = 100_000

_PREFIX = "tag:yaml.org,2002:"
_STR, _MERGE = _PREFIX + "str", _PREFIX + "merge"
_SEQUENCE_TAGS = frozenset({_PREFIX + "seq", _PREFIX + "omap", _PREFIX + "pairs"})
_MAPPING_TAGS = frozenset({_PREFIX + "map", _PREFIX + "set"})


#: A constructed mapping or list, with what it expands to: (value, nodes, characters).
_Built = tuple[Any, int, int]


class _Frame:
    """A mapping or list being built: its children, the values built so far and what
    they expand to."""

    __slots__ = ("chars", "children", "index", "merged", "node", "nodes", "values")

    def __init__(self, node: Node, children: list[Node], merged: int = 0) -> None:
        self.node = node
        self.children = children
        self.merged = merged  # how many of the first children are mappings merged in (<<)
        self.index = 0
        self.values: list[Any] = []
        self.nodes = 1
        self.chars = 0


class Builder:
    """Build the data of one document for ``loader`` (whose scalar constructors it uses)."""

    def __init__(self, loader: Any, file: str, text_size: int) -> None:
        self.loader = loader
        self.file = file
        self.budget = max(MIN_BUDGET, EXPANSION_FACTOR * text_size)
        self._scalar_constructors = loader.yaml_constructors

    def build(self, root: Node) -> Any:
        if isinstance(root, ScalarNode):
            return self._scalar(root)
        memo: dict[int, _Built] = {}
        active: set[int] = {id(root)}
        stack = [self._frame(root)]
        result: Any = None
        while stack:
            frame = stack[-1]
            children, values = frame.children, frame.values
            index, count = frame.index, len(children)
            nodes, chars = frame.nodes, frame.chars
            deeper: Node | None = None
            while index < count:  # the hot loop: one pass per node of the file
                child = children[index]
                index += 1
                if child.__class__ is ScalarNode:
                    text = child.value
                    values.append(text if child.tag == _STR else self._scalar(child))
                    nodes += 1
                    chars += len(text)
                    continue
                done = memo.get(id(child))
                if done is None:
                    deeper = child
                    break
                values.append(done[0])
                nodes += done[1]
                chars += done[2]
            frame.index, frame.nodes, frame.chars = index, nodes, chars
            if deeper is not None:
                stack.append(self._enter(deeper, active, len(stack)))
                continue
            stack.pop()
            active.discard(id(frame.node))
            built = self._finish(frame)
            memo[id(frame.node)] = built
            if stack:
                parent = stack[-1]
                parent.values.append(built[0])
                parent.nodes += built[1]
                parent.chars += built[2]
            else:
                result = built[0]
        return result

    def _enter(self, node: Node, active: set[int], depth: int) -> _Frame:
        if id(node) in active:
            raise self._error(node, _("an alias refers to the node it is in"))
        if depth >= MAX_DEPTH:
            raise self._error(
                node,
                _("nested more than {depth} levels deep").format(depth=MAX_DEPTH),
                _("flowmatrix files nest a few levels: check the indentation"),
            )
        active.add(id(node))
        return self._frame(node)

    def _scalar(self, node: Node) -> Any:
        construct = self._scalar_constructors.get(node.tag)
        if construct is None or node.tag in _SEQUENCE_TAGS or node.tag in _MAPPING_TAGS:
            self.loader.construct_undefined(node)  # raises: a tag flowmatrix does not read
        try:
            return construct(self.loader, node)
        except ValueError as exc:  # an integer of 5,000 digits, a date out of range...
            raise ConstructorError(
                None,
                None,
                _("cannot read {value}: {problem}").format(
                    value=quote(node.value), problem=clip(str(exc))
                ),
                node.start_mark,
            ) from None

    def _frame(self, node: Node) -> _Frame:
        if node.tag not in _SEQUENCE_TAGS and node.tag not in _MAPPING_TAGS:
            self.loader.construct_undefined(node)  # raises: an unknown tag
        if isinstance(node, SequenceNode):
            return _Frame(node, list(node.value))
        assert isinstance(node, MappingNode)
        merged: list[Node] = []
        children: list[Node] = []
        for key, value in node.value:
            if key.tag == _MERGE:
                merged.extend(self._merge_sources(node, value))
            else:
                children += (key, value)
        return _Frame(node, merged + children, merged=len(merged))

    def _merge_sources(self, node: Node, value: Node) -> list[Node]:
        if isinstance(value, MappingNode):
            return [value]
        if isinstance(value, SequenceNode) and all(isinstance(v, MappingNode) for v in value.value):
            return list(value.value)
        raise ConstructorError(
            "while constructing a mapping",
            node.start_mark,
            _("expected a mapping or list of mappings for merging"),
            value.start_mark,
        )

    def _finish(self, frame: _Frame) -> _Built:
        nodes, chars = frame.nodes, frame.chars
        if nodes > self.budget or chars > self.budget:
            what = (
                ngettext("{n} node", "{n} nodes", nodes).format(n=nodes)
                if nodes > self.budget
                else ngettext("{n} character", "{n} characters", chars).format(n=chars)
            )
            raise self._error(
                frame.node,
                _(
                    "aliases expand the document past {what} (the limit is {limit}: "
                    "{factor} times the file's size, at least {minimum})"
                ).format(what=what, limit=self.budget, factor=EXPANSION_FACTOR, minimum=MIN_BUDGET),
                _(
                    "an alias (*name) repeats all its anchor holds: write the value out, "
                    "or use fewer aliases"
                ),
            )
        if isinstance(frame.node, SequenceNode):
            return frame.values, nodes, chars
        return self._mapping(frame), nodes, chars

    def _mapping(self, frame: _Frame) -> dict[Any, Any]:
        values, merged = frame.values, frame.merged
        mapping: dict[Any, Any] = {}
        for source in reversed(values[:merged]):  # the first mapping merged wins
            mapping.update(source)
        own: set[Any] = set()
        for index in range(merged, len(values), 2):
            key = values[index]
            try:
                duplicate = key in own
            except TypeError:
                raise ConstructorError(
                    None, None, _("found an unhashable key"), frame.children[index].start_mark
                ) from None
            if duplicate:
                mark = frame.children[index].start_mark
                raise ConstructorError(None, None, f'duplicate key "{key}"', mark)
            own.add(key)
            mapping[key] = values[index + 1]
        return mapping

    def _error(self, node: Node, message: str, hint: str | None = None) -> UserError:
        mark = node.start_mark
        return UserError(
            message, file=self.file, line=mark.line + 1, col=mark.column + 1, hint=hint
        )
