"""The signature of a training step: argument and result types and roles.

Reads `func.func @name(...)` from MLIR text: each argument's SSA name, type,
`mpt.role` and location name (`loc("x")`, also through a `#loc` alias), and
each result's type and attributes (`mpt.role`, `mpt.grad_of`,
`mpt.updates`, `mpt.copy_of`). Types are mpt.aot.TensorType.
"""

import re

from mpt import aot

_FUNC = re.compile(r"func\.func\s+(public\s+|private\s+|nested\s+)?@([\w$.-]+"
                   r'|"[^"]*")\s*\(')


class Value:
    """An argument or a result of the step: `index`, `name`, `type` (an
    aot.TensorType), `role` (None when it has none) and its integer
    attributes (`grad_of`, `updates`, `copy_of`, None when absent)."""

    def __init__(self, index, type_text, attrs, name=None):
        self.index = index
        self.type = aot.TensorType(type_text)
        self.attrs = attrs
        self.name = name
        self.role = attrs.get("mpt.role")
        self.grad_of = attrs.get("mpt.grad_of")
        self.updates = attrs.get("mpt.updates")
        self.copy_of = attrs.get("mpt.copy_of")

    @property
    def shape(self):
        """The static shape, None for a dynamic dimension (() for a scalar
        tensor)."""
        return tuple(self.type.shape or ())

    @property
    def elem(self):
        return self.type.elem

    def describe(self):
        role = "role %s, " % self.role if self.role else ""
        return "'%s' (#%d, %s%s)" % (self.name, self.index, role,
                                     self.type.text.strip())

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.describe())


def _matching(text, i, open_ch="(", close_ch=")"):
    """Index just past the bracket closing the one before text[i]; strings
    are skipped."""
    depth, n = 1, len(text)
    while i < n and depth:
        ch = text[i]
        if ch == '"':
            i = text.index('"', i + 1)
            while text[i - 1] == "\\":
                i = text.index('"', i + 1)
        elif ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
        i += 1
    if depth:
        raise ValueError("unbalanced %r in the signature" % open_ch)
    return i


def _split_top(text):
    """Splits at commas outside brackets and strings."""
    parts, depth, cur, in_str = [], 0, [], False
    for k, ch in enumerate(text):
        if in_str:
            if ch == '"' and text[k - 1] != "\\":
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _parse_attrs(text):
    """{key = value, ...} -> dict: strings unquoted, integers as int."""
    attrs = {}
    for item in _split_top(text):
        if "=" not in item:
            attrs[item.strip()] = True
            continue
        key, value = item.split("=", 1)
        value = value.strip()
        m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', value)
        if m:
            attrs[key.strip()] = m.group(1)
            continue
        m = re.fullmatch(r"(-?\d+)(\s*:\s*i\d+)?", value)
        attrs[key.strip()] = int(m.group(1)) if m else value
    return attrs


def _loc_aliases(text):
    """#alias = loc("name"...) aliases whose location is a name."""
    out = {}
    for m in re.finditer(r"^(#[\w$.-]+)\s*=\s*loc\((.*)\)\s*$", text,
                         re.M):
        name = _loc_name(m.group(2), {})
        if name:
            out[m.group(1)] = name
    return out


def _loc_name(body, aliases):
    """The name of a NameLoc (`"x"` or `"x"(...)`), None for a file
    location (`"file":line:col`) or anything else."""
    body = body.strip()
    if body.startswith("#"):
        return aliases.get(body)
    m = re.match(r'"((?:[^"\\]|\\.)*)"\s*(.?)', body)
    if not m or m.group(2) == ":":
        return None
    return m.group(1)


def _split_value(item):
    """'type {attrs} loc(...)' -> (type, attrs text, loc text)."""
    loc = None
    m = re.search(r"\sloc\(", item)
    if m:
        end = _matching(item, m.end())
        loc = item[m.end():end - 1]
        item = item[:m.start()] + item[end:]
    attrs = ""
    b = item.find("{")
    if b >= 0:
        end = _matching(item, b + 1, "{", "}")
        attrs = item[b + 1:end - 1]
        item = item[:b] + item[end:]
    return item.strip(), attrs, loc


def public_functions(text):
    """Names of the public func.func ops of a module."""
    return [m.group(2).strip('"') for m in _FUNC.finditer(text)
            if not (m.group(1) or "").strip() in ("private", "nested")]


def parse(text, name):
    """(arguments, results) of func.func @name as lists of Value; argument
    names are location names, else the SSA names as written."""
    for m in _FUNC.finditer(text):
        if m.group(2).strip('"') == name:
            break
    else:
        raise ValueError("no function @%s in the module" % name)
    end = _matching(text, m.end())
    aliases = _loc_aliases(text)
    args = []
    for i, item in enumerate(_split_top(text[m.end():end - 1])):
        ssa, rest = item.split(":", 1)
        type_text, attrs, loc = _split_value(rest)
        locname = _loc_name(loc, aliases) if loc else None
        args.append(Value(i, type_text, _parse_attrs(attrs),
                          locname or ssa.strip().lstrip("%")))
    rest = text[end:].lstrip()
    results = []
    if rest.startswith("->"):
        rest = rest[2:].lstrip()
        if rest.startswith("("):
            close = _matching(rest, 1)
            items = _split_top(rest[1:close - 1])
        else:
            items = [re.match(r"[^\s{]+", rest).group(0)]
        for i, item in enumerate(items):
            type_text, attrs, _ = _split_value(item)
            results.append(Value(i, type_text, _parse_attrs(attrs)))
    return args, results
