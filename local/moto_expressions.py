"""moto's DynamoDB, cheaper per item: its update-expression work memoised per expression string.

For every Update (UpdateItem or an entry of TransactWriteItems) moto parses the UpdateExpression
twice (once to check the names and values it uses, once to apply it), deep-copies the parsed tree,
and walks the copy ten times to validate and resolve it; three of those walks are quadratic in the
expression's size. A protected send updates ~11 items, so that was most of its time in the sandbox,
where real DynamoDB charges mostly per call. Three levers, none of which changes what moto answers:

- the parse of an UpdateExpression string is kept (a tokenizer + parser, a pure function of the
  string; a string that does not parse is not kept, so it fails again each time). moto only reads
  the tree it gets (``find_clauses``) or deep-copies it before changing anything (``Validator``);
- that deep copy, for a kept tree, is ``pickle.loads`` of the tree pickled once: a fresh, equal,
  unshared tree as ``copy.deepcopy`` gives, several times faster;
- the three validations that depend only on the expression, its ExpressionAttributeNames and the
  table's key attributes (at most one ADD/SET/REMOVE clause, no overlapping paths, no key attribute
  updated) are skipped for a combination that already passed every check once. They only raise or
  pass; they never change the tree. A combination that failed is not remembered, so it fails again;
- each of the ten walks asked its walker, for every node, for a fresh dict of the node types it
  handles; a walker (built anew for each validation) now builds that constant dict once.

Everything that depends on the values or on the item (types, missing attributes, conditions,
sizes) is still checked on every call.
"""

from __future__ import annotations

import importlib
import pickle
import threading
from functools import lru_cache
from typing import Any

_installed = threading.Lock()
_CACHE_SIZE = 1024
_PATCHED = "_otp_sandbox_expression_cache"


def install_expression_cache() -> None:
    """Memoise moto's UpdateExpression parsing and expression-only validations (idempotent)."""
    # Typed Any: the names patched here are moto's internals, not its typed interface.
    models: Any = importlib.import_module("moto.dynamodb.models")
    responses: Any = importlib.import_module("moto.dynamodb.responses")
    validators: Any = importlib.import_module("moto.dynamodb.parsing.validators")
    parser_class: Any = importlib.import_module("moto.dynamodb.parsing.expressions").UpdateExpressionParser

    with _installed:
        if getattr(validators, _PATCHED, False):
            return
        real_make = parser_class.make
        real_deepcopy = validators.deepcopy
        pickled: dict[int, tuple[Any, bytes]] = {}

        @lru_cache(maxsize=_CACHE_SIZE)
        def parse(expression: str) -> Any:
            tree = real_make(expression)
            tree.otp_sandbox_expression = expression  # copies carry it: validate's cache key
            # Kept with the tree, so that its id cannot be reused while the entry exists.
            pickled[id(tree)] = (tree, pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL))
            return tree

        class CachedParser(parser_class):  # type: ignore[misc]
            @classmethod
            def make(cls, expression_str: str) -> Any:
                if len(pickled) > 2 * _CACHE_SIZE:  # the lru dropped trees: forget their pickles too
                    pickled.clear()
                    parse.cache_clear()
                return parse(expression_str)

        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            kept = pickled.get(id(value))
            if kept is not None and kept[0] is value and memo is None:
                return pickle.loads(kept[1])
            return real_deepcopy(value, memo)

        models.UpdateExpressionParser = CachedParser
        responses.UpdateExpressionParser = CachedParser
        validators.deepcopy = deepcopy
        _skip_passed_expression_checks(validators)
        _keep_processing_maps(importlib.import_module("moto.dynamodb.parsing.ast_nodes").DepthFirstTraverser)
        setattr(validators, _PATCHED, True)


def _skip_passed_expression_checks(validators: Any) -> None:
    """UpdateExpressionValidator.validate, skipping the expression-only checks a combination passed."""
    expression_only = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    passed: set[tuple[str | None, tuple[tuple[str, str], ...], tuple[str, ...]]] = set()

    def validate(self: Any) -> Any:
        tree = self.node_to_validate
        expression = getattr(tree, "otp_sandbox_expression", None)
        names = self.expression_attribute_names or {}
        key = (expression, tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
        known = expression is not None and key in passed
        for processor in self.processors:
            if known and isinstance(processor, expression_only):
                continue
            tree = processor.traverse(tree)
        if expression is not None:
            passed.add(key)  # every check ran and passed
        return tree

    validators.UpdateExpressionValidator.validate = validate


def _keep_processing_maps(traverser: Any) -> None:
    """DepthFirstTraverser: its ``_processing_map`` (node class -> bound method, the same on every
    call in moto's walkers) built once per walker instead of once per node visited."""

    def processing_map(self: Any) -> Any:
        mapping = self.__dict__.get("_otp_processing_map")
        if mapping is None:
            mapping = self.__dict__["_otp_processing_map"] = self._processing_map()
        return mapping

    def nodes_to_be_processed(self: Any) -> Any:
        types = self.__dict__.get("_otp_node_types")
        if types is None:
            types = self.__dict__["_otp_node_types"] = tuple(processing_map(self).keys())
        return types

    def process(self: Any, node: Any) -> Any:
        for class_key, processor in processing_map(self).items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    traverser.nodes_to_be_processed = nodes_to_be_processed
    traverser.process = process
