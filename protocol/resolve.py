"""A criterion's or rule's expression with its references resolved, for the engine.

The model keeps what the author wrote: a bare name for a definition, `max_dose[drug]` for a
table, `all of latest (alt, ast) ... <= 2.5 x ULN` for a panel. Before evaluation, `resolve`
rewrites each into what it stands for:

* a definition's name becomes `Defined(name, body)`, the body resolved in turn (definitions
  are evaluated where they are used, with that criterion's or rule's data cut);
* a table lookup becomes `TableValue` carrying the table's rows;
* a comparison or test of a panel becomes one per member, joined with `and` (`all of`) or `or`
  (`any of`), each member selected as the panel says;
* inside `where`, an attribute whose unit the data dictionary declares becomes
  `UnitAttribute`, so that its number is read in that unit.

A tree with nothing to resolve is returned as it is (the same object). `protocol.check` has
already rejected cycles of definitions; a cycle met here anyway is cut (the inner use stays a
bare name, which evaluates to unknown) rather than looping.
"""

from __future__ import annotations

from typing import Any

import attrs

from protocol import expr as ex
from protocol.design import DataItem
from protocol.trial import Trial
from protocol.vocab import DataKind


def resolve(node: ex.Expr, trial: Trial) -> ex.Expr:
    """`node` with definitions, tables, panels and attribute units resolved."""
    return _Resolver(trial).expr(node, None, ())


class _Resolver:
    def __init__(self, trial: Trial):
        self.definitions = {d.name: d for d in trial.definitions}
        self.tables = {t.name: t for t in trial.tables}
        self.data = {d.name: d for d in trial.data}

    def expr(self, node: Any, in_where: DataItem | None, using: tuple[str, ...]) -> Any:
        if isinstance(node, ex.Name):
            if in_where is not None:
                unit = in_where.attribute_unit(node.name)
                if unit is None and node.name == "value" and in_where.unit is not None \
                        and not _observed(in_where):
                    unit = in_where.unit
                if unit is not None:
                    return ex.UnitAttribute(node.name, unit, span=node.span)
                return node
            definition = self.definitions.get(node.name)
            if definition is None or node.name in using:
                return node
            body = self.expr(definition.expr, None, using + (node.name,))
            return ex.Defined(node.name, body, span=node.span)
        if isinstance(node, ex.Call):
            # directly, not through `fields`: one frame per level of nesting (issue 15)
            arguments = []
            changed = False
            for a in node.arguments:
                value = self.expr(a.value, in_where, using)
                changed = changed or value is not a.value
                arguments.append(attrs.evolve(a, value=value) if value is not a.value else a)
            return attrs.evolve(node, arguments=tuple(arguments)) if changed else node
        if isinstance(node, ex.Lookup):
            table = self.tables.get(node.table)
            key = self.expr(node.key, in_where, using)
            rows = tuple((r.key, r.value) for r in table.rows) if table is not None else ()
            return ex.TableValue(node.table, key, rows, span=node.span)
        if isinstance(node, (ex.Compare, ex.InRange, ex.InSet, ex.Test)):
            panel = node.left if isinstance(node, ex.Compare) else node.operand
            if isinstance(panel, ex.Panel):
                return self.panel(node, panel, in_where, using)
        if isinstance(node, ex.Selection):
            item = self.data.get(node.kind)
            where = self.expr(node.where, item, using) if node.where is not None else None
            temporal = self.lengths(node.temporal)
            if where is node.where and temporal is node.temporal:
                return node
            return attrs.evolve(node, where=where, temporal=temporal)
        return self.fields(node, in_where, using)

    def lengths(self, temporal: Any) -> Any:
        """A window's length from a table (`5 x half_lives[drug]`) with the table's rows."""
        if not isinstance(temporal, ex.WithinLongest) or \
                not any(isinstance(x, ex.DataDuration) and x.table for x in temporal.lengths):
            return temporal
        lengths: list[Any] = []
        for x in temporal.lengths:
            if isinstance(x, ex.DataDuration) and x.table is not None:
                table = self.tables.get(x.table)
                rows = tuple((r.key, r.value) for r in table.rows) if table is not None else ()
                lengths.append(ex.TableDuration(x.factor, x.table, x.attribute, rows,
                                                span=x.span))
            else:
                lengths.append(x)
        return attrs.evolve(temporal, lengths=tuple(lengths))

    def fields(self, node: Any, in_where: DataItem | None, using: tuple[str, ...]) -> Any:
        """The node with each of its expression fields resolved (the same node if none
        changed)."""
        if isinstance(node, tuple):
            items = tuple(self.expr(x, in_where, using) for x in node)
            return node if all(a is b for a, b in zip(items, node, strict=True)) else items
        if not attrs.has(type(node)):
            return node
        changes: dict[str, Any] = {}
        for field in attrs.fields(type(node)):
            if field.name == "span":
                continue
            value = getattr(node, field.name)
            if isinstance(value, tuple) or attrs.has(type(value)):
                new = self.expr(value, in_where, using)
                if new is not value:
                    changes[field.name] = new
        return attrs.evolve(node, **changes) if changes else node

    def panel(self, node: Any, panel: ex.Panel, in_where: DataItem | None,
              using: tuple[str, ...]) -> ex.Expr:
        members = []
        for kind in panel.kinds:
            value = ex.Aggregate(panel.fn, ex.Selection(kind, panel.temporal, span=panel.span),
                                 span=panel.span)
            if isinstance(node, ex.Compare):
                member = attrs.evolve(node, left=value)
            else:
                member = attrs.evolve(node, operand=value)
            members.append(self.fields(member, in_where, using))
        joined = tuple(members)
        if len(joined) == 1:
            return joined[0]
        if panel.quantifier is ex.Quantifier.ALL:
            return ex.And(joined, span=node.span)
        return ex.Or(joined, span=node.span)


def _observed(item: DataItem) -> bool:
    # An observation's `value` attribute carries the record's own unit already.
    return item.kind in (DataKind.LAB, DataKind.VITAL, DataKind.SCORE, DataKind.MARKER,
                         DataKind.CATEGORY)


__all__ = ["resolve"]
