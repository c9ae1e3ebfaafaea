"""Add the hooks to flows that already exist, without editing their decorators.

``install(nightly)`` appends :func:`~postmortem_scribe_prefect.hooks.on_flow_failure` to the
flow's failure and crash hooks and the task hooks to every task the flow's code refers to
(and, recursively, to the subflows and tasks those refer to).  Calling it again changes
nothing.  The user's own hooks stay where they were and run first.
"""

from __future__ import annotations

import inspect
import logging
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import _compat, _logbuffer
from .hooks import on_flow_completion, on_flow_failure, on_task_completion, on_task_failure

log = logging.getLogger("postmortem_scribe_prefect")

__all__ = ["Installed", "install"]

_MAX_OBJECTS = 500


@dataclass
class Installed:
    """What :func:`install` hooked: flow and task names, and what it could not."""

    flows: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"postmortem-scribe hooks on flows {self.flows} and tasks {self.tasks}"
        return text + (f"; problems: {self.problems}" if self.problems else "")


def _add(obj: Any, kind: str, hook: Any) -> bool:
    hooks = _compat.hook_list(obj, kind)
    if hooks is None:
        return False
    if hook not in hooks:
        hooks.append(hook)
    return True


def _code_names(fn: Any) -> set[str]:
    """Global and attribute names used by ``fn``'s code, nested functions included."""
    names: set[str] = set()
    code = getattr(fn, "__code__", None)
    stack = [code] if isinstance(code, types.CodeType) else []
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return names


def _referenced(fn: Any) -> Iterator[Any]:
    """Objects ``fn`` can reach by name: globals, closure cells, attributes of used modules."""
    try:
        fn = inspect.unwrap(fn)
    except Exception:  # noqa: BLE001
        pass
    names = _code_names(fn)
    namespace = getattr(fn, "__globals__", {}) or {}
    modules = []
    for name in names:
        if name in namespace:
            value = namespace[name]
            if isinstance(value, types.ModuleType):
                modules.append(value)
            else:
                yield value
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue
    for module in modules:  # `tasks.load(...)` where `tasks` is a module of the user's
        for name in names:
            value = getattr(module, name, None)
            if value is not None:
                yield value


def install(*flows: Any, tasks: bool = True, profiles: bool = True) -> Installed:
    """Add postmortem-scribe's hooks to existing flow objects and to their tasks; idempotent.

    Args:
        *flows: Prefect ``Flow`` objects (as made by ``@flow``).
        tasks: Also hook the tasks (and subflows) each flow's code refers to by name.
            Task failures then carry the task's own path parameters as inputs.
        profiles: Also add completion hooks that record a profile of input files that worked,
            so a later failure's draft can say what changed.

    Returns:
        What was hooked.  Never raises: an object that is not a flow is listed in
        ``problems``.

    Example::

        from postmortem_scribe_prefect import install
        from my_project.flows import nightly

        install(nightly)
        nightly(input_path="data/orders.csv")
    """
    from prefect.flows import Flow
    from prefect.tasks import Task

    result = Installed()
    _logbuffer.attach()
    pending: list[Any] = list(flows)
    seen: set[int] = set()
    while pending and len(seen) < _MAX_OBJECTS:
        obj = pending.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            if isinstance(obj, Flow):
                ok = _add(obj, "on_failure", on_flow_failure)
                ok = _add(obj, "on_crashed", on_flow_failure) and ok
                if profiles:
                    _add(obj, "on_completion", on_flow_completion)
                if ok:
                    result.flows.append(obj.name)
                else:
                    result.problems.append(f"flow {obj.name!r}: its hook lists were not found")
            elif isinstance(obj, Task):
                if _add(obj, "on_failure", on_task_failure):
                    if profiles:
                        _add(obj, "on_completion", on_task_completion)
                    result.tasks.append(obj.name)
                else:
                    result.problems.append(f"task {obj.name!r}: its hook lists were not found")
                    continue
            elif obj in flows:
                result.problems.append(f"{obj!r} is not a Prefect flow; expected an @flow object")
                continue
            else:
                continue
            if tasks:
                pending.extend(
                    ref for ref in _referenced(getattr(obj, "fn", None))
                    if isinstance(ref, (Flow, Task)) and id(ref) not in seen
                )
        except Exception as exc:  # noqa: BLE001 - never fail the caller's import
            result.problems.append(f"{obj!r}: {type(exc).__name__}: {exc}")
    result.flows = list(dict.fromkeys(result.flows))
    result.tasks = list(dict.fromkeys(result.tasks))
    log.debug("%s", result)
    return result
