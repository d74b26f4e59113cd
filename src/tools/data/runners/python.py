# The python_data runner of windlass: python runner.py CONTEXT.json RESULT.json
# Runs the phase's code with `data`, `state`, `input` (and `pd`, `np` when they import, and
# `json`), then writes `result` to RESULT.json: {"kind": "table", "columns", "rows"} for a pandas
# DataFrame, {"kind": "value", "value"} otherwise, {"error"} when the code failed.
import ast
import datetime
import json
import math
import sys
import traceback

context_path, result_path = sys.argv[1], sys.argv[2]
with open(context_path, encoding="utf-8") as f:
    context = json.load(f)

try:
    import pandas as pd
except ImportError:
    pd = None
try:
    import numpy as np
except ImportError:
    np = None


class Data:
    """`data.<phase>` / `data['phase']`: a DataFrame for a table when pandas imports, else the
    rows as a list of dicts; other outputs as they are."""

    def __init__(self, values):
        self._values = values
        self._cache = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(str(e)) from None

    def __getitem__(self, name):
        if name in self._cache:
            return self._cache[name]
        if name not in self._values:
            known = ", ".join(self._values) or "none yet"
            raise KeyError(f"no phase named '{name}' has run before this one (phases with data: {known})")
        value = self._values[name]
        if pd is not None and isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            value = pd.DataFrame(value)
        self._cache[name] = value
        return value

    def __contains__(self, name):
        return name in self._values

    def __iter__(self):
        return iter(self._values)

    def list_available(self):
        return list(self._values)


def plain(value):
    """The value as JSON-ready data (numpy and pandas scalars, dates, NaN as null)."""
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return json.loads(value.to_json(orient="records", date_format="iso"))
        if isinstance(value, pd.Series):
            return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    if hasattr(value, "item"):
        try:
            return plain(value.item())
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)


def has_top_level_return(tree):
    """A `return` outside any function: the code is a function body (as some cascades write)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def run():
    phase = context.get("phase", "phase")
    filename = f"<phase {phase}>"
    scope = {
        "__name__": "__windlass_phase__",
        "data": Data(context.get("data") or {}),
        "state": context.get("state") or {},
        "input": context.get("input") or {},
        "json": json,
    }
    if pd is not None:
        scope["pd"] = pd
    if np is not None:
        scope["np"] = np
    tree = ast.parse(context["code"], filename=filename)
    if has_top_level_return(tree):
        wrapper = ast.parse("def __windlass_phase__():\n    pass\nresult = __windlass_phase__()\n", filename=filename)
        wrapper.body[0].body = tree.body or [ast.Pass()]
        tree = ast.fix_missing_locations(wrapper)
    exec(compile(tree, filename, "exec"), scope)
    if "result" not in scope:
        raise NameError("the code must set the variable `result` (for example: result = df)")
    result = scope["result"]
    if pd is not None and isinstance(result, pd.DataFrame):
        return {"kind": "table", "columns": [str(c) for c in result.columns], "rows": plain(result)}
    return {"kind": "value", "value": plain(result)}


try:
    outcome = run()
except BaseException as e:  # noqa: BLE001 - every failure is reported to windlass
    traceback.print_exc()
    outcome = {"error": f"{type(e).__name__}: {e}"}
with open(result_path, "w", encoding="utf-8") as f:
    json.dump(outcome, f, allow_nan=False)
