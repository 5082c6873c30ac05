#!/usr/bin/env python3
"""Slim TrueNAS API dumps to the structure truenas-mcp embeds.

Keeps, per method: name, job, roles, removed_in and the positional params schema with
every prose keyword (description, title, examples) removed, except the `title` of each
positional param, which is the param's name. TrueNAS's documentation text
is not embedded; types, required keys, enums, bounds and defaults are.

Beside each table from a real dump it writes `<version>.returns.json`: the `returns` schema of
every method the tool set (`tools/*.toml`) calls, as declared by that dump, reduced to structure
(types, properties, required, items, enums and consts, combinators; `oneOf` kept as `anyOf`, as
TrueNAS's discriminated unions never overlap; a `date-time` string also as its wire form
`{"$date": ms}`) with no prose, defaults, examples or bounds.
Identical schemas are stored once. 25.04's file holds only the methods its partial dump has;
24.10 (no dump) has none.

It also builds two approximated tables (see `about` in each overlay file):
- TrueNAS 24.10, for which no dump exists (schemas/v24.10-overlay.json): the v25.04.2 dump,
  filled from v25.10.5, minus the overlay's `remove` names, plus its hand-written `methods`.
- TrueNAS 25.04 (schemas/v25.04-overlay.json), whose dump is partial: the v25.04.2 dump as is
  (every name in it is authoritative), filled from v25.10.5 minus `remove_from_fill` (names
  25.10 introduced), plus the `borrow`ed methods of another overlay (old names 25.04 still has).

usage: scripts/slim-schemas.py ../shared/reference/truenas-api crates/truenas-api/schemas
"""
import json
import pathlib
import sys
import tomllib

PROSE = {"description", "title", "examples", "doc"}
RELEASES = ["v25.10.5", "v26.0.0", "v27.0.0"]
# The middleware makes a method private (absent for API clients: "Method does not exist") in the
# API version its `removed_in` names. The 27 dump still lists those methods (`auth.login`,
# `auth.login_with_api_key`, ...): its table leaves them out. The 26.0 table keeps its three
# `removed_in: v26` methods as before (not confirmed either way for the 26.0 release).
GONE_IN = {"v27.0.0": "v27"}
# The 27 dump masks the defaults of a few secret-bearing models as text (`port` 21 reads
# "**********", booleans ""): such a default, which does not even have its field's type, is
# taken from the previous release's dump at the same place, or dropped when it has none there.
MASKED_FROM = {"v27.0.0": "v26.0.0"}


def masked(node):
    # `type` may also be a property named so (inside `properties`): only a type name counts.
    kind = node.get("type")
    return kind in ("integer", "number", "boolean") and isinstance(node.get("default"), str)


def unmask(node, previous):
    """Repairs masked defaults in `node` from `previous` (the same schema one release earlier)."""
    if isinstance(node, dict):
        if masked(node):
            if isinstance(previous, dict) and "default" in previous and not masked(previous):
                node["default"] = previous["default"]
            else:
                del node["default"]
        for key, value in node.items():
            unmask(value, previous.get(key) if isinstance(previous, dict) else None)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            unmask(value, previous[i] if isinstance(previous, list) and i < len(previous) else None)


def strip(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in PROSE:
                continue
            if key == "prefixItems" and isinstance(value, list):
                # positional params keep their name (`title`): it is the param's name, not prose
                out[key] = [dict(strip(item), **({"title": item["title"]} if "title" in item else {})) for item in value]
            elif key == "properties" and isinstance(value, dict):
                # property names are data, never prose: keep them all
                out[key] = {name: strip(sub) for name, sub in value.items()}
            else:
                out[key] = strip(value)
        return out
    if isinstance(node, list):
        return [strip(item) for item in node]
    return node


# What a result schema keeps: its structure. Bounds, formats and defaults say nothing about
# the shape of a result, and a masked secret must not break a length or pattern rule.
STRUCTURE = {"type", "properties", "required", "items", "prefixItems", "additionalProperties", "anyOf",
             "oneOf", "allOf", "enum", "const", "patternProperties", "propertyNames"}


# The wire form of a datetime: TrueNAS's JSON encoder sends `{"$date": <ms since the epoch>}`
# where the models declare a `date-time` string.
WIRE_DATE = {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"$date": {"type": "integer"}},
                                              "required": ["$date"], "additionalProperties": False}]}


def structure(node):
    if isinstance(node, list):
        return [structure(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "date-time":
        return WIRE_DATE
    out = {}
    for key, value in node.items():
        if key not in STRUCTURE:
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: structure(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out["anyOf" if key == "oneOf" else key] = structure(value)
    return out


def catalog_methods():
    """Every method an action of the tool set calls, its routes' included."""
    methods = set()
    for path in sorted((pathlib.Path(__file__).resolve().parent.parent / "tools").glob("*.toml")):
        for action in tomllib.loads(path.read_text()).get("action", []):
            methods.update(m["method"] for m in [action, *action.get("route", [])] if "method" in m)
    return methods


def write_returns(dst, version, dump_methods, wanted):
    schemas, index, methods = [], {}, {}
    for m in sorted(dump_methods, key=lambda m: m["name"]):
        if m["name"] not in wanted or m.get("returns") is None:
            continue
        slimmed = structure(m["returns"])
        key = json.dumps(slimmed, sort_keys=True)
        if key not in index:
            index[key] = len(schemas)
            schemas.append(slimmed)
        methods[m["name"]] = index[key]
    out = {"version": version, "methods": methods, "schemas": schemas}
    (dst / f"{version}.returns.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"{version}: returns of {len(methods)} methods, {len(schemas)} distinct")


def slim(m, job=None):
    return {
        "name": m["name"],
        "job": bool(m.get("job")) if job is None else job,
        "roles": m.get("roles") or [],
        "removed_in": m.get("removed_in"),
        "params": strip(m["params"]),
    }


def write(dst, version, methods, **extra):
    out = {"version": version, **extra, "methods": sorted(methods, key=lambda m: m["name"])}
    (dst / f"{version}.json").write_text(json.dumps(out, separators=(",", ":"), sort_keys=False) + "\n")
    print(f"{version}: {len(methods)} methods")


def removed(name, patterns):
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def legacy_table(src, overlay_path):
    """The approximated 24.10 table: base dump, filled from a newer one, minus removals, plus the overlay."""
    overlay = json.loads(overlay_path.read_text())
    base = json.loads((src / f"{overlay['base']}.json").read_text())["methods"]
    fill = {m["name"]: m for m in json.loads((src / f"{overlay['fill']}.json").read_text())["methods"]}
    table = {}
    for m in base:
        # The 25.04 dump carries no job flags: take them from the newer dump for the same name.
        table[m["name"]] = slim(m, job=bool(fill.get(m["name"], {}).get("job")))
    for name, m in fill.items():
        table.setdefault(name, slim(m))
    table = {name: m for name, m in table.items() if not removed(name, overlay["remove"])}
    for entry in overlay["methods"]:
        table[entry["name"]] = overlay_method(entry, fill, overlay["shared"])
    for m in table.values():
        m["removed_in"] = None  # announcements of later releases say nothing about 24.10
    return list(table.values())


def overlay_method(entry, fill, shared):
    """A hand-written overlay method: its params inline, shared (`"$name"`), or copied from the
    fill dump (`params_from`)."""
    params = entry.get("params")
    if "params_from" in entry:
        params = strip(fill[entry["params_from"]]["params"])
    elif isinstance(params, str):
        params = shared[params.lstrip("$")]
    return {"name": entry["name"], "job": entry["job"], "roles": entry["roles"], "removed_in": None, "params": params}


def partial_table(src, dst, overlay_path):
    """The approximated 25.04 table: its partial dump, filled from a newer one minus the names the
    newer release introduced, plus old-name signatures borrowed from another overlay."""
    overlay = json.loads(overlay_path.read_text())
    base = json.loads((src / f"{overlay['base']}.json").read_text())["methods"]
    fill = {m["name"]: m for m in json.loads((src / f"{overlay['fill']}.json").read_text())["methods"]}
    table = {}
    dumped = {m["name"] for m in base}
    for m in base:
        # The 25.04 dump carries no job flags: take them from the newer dump for the same name,
        # or from the overlay's `jobs` for names the newer dump no longer has.
        job = fill[m["name"]]["job"] if m["name"] in fill else m["name"] in overlay.get("jobs", [])
        table[m["name"]] = slim(m, job=bool(job))
    for name, m in fill.items():
        if name not in table and not removed(name, overlay["remove_from_fill"]):
            table[name] = dict(slim(m), removed_in=None)  # later announcements say nothing about 25.04
    lender = json.loads((dst / overlay["borrow"]["overlay"]).read_text())
    borrowed = overlay["borrow"]["methods"]
    for entry in lender["methods"]:
        if not removed(entry["name"], borrowed):
            continue
        # A borrowed signature replaces a filled-in one (the newer release changed it), never
        # one of the dump's own.
        if entry["name"] in dumped:
            sys.exit(f"{entry['name']}: borrowed, but the {overlay['base']} dump has it")
        table[entry["name"]] = overlay_method(entry, fill, lender["shared"])
    return list(table.values())


def main(src, dst):
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    wanted = catalog_methods()
    for release in RELEASES:
        dump = json.loads((src / f"{release}.json").read_text())
        gone = GONE_IN.get(release)
        methods = [slim(m) for m in dump["methods"] if gone is None or m.get("removed_in") != gone]
        if release in MASKED_FROM:
            before = {m["name"]: m for m in json.loads((src / f"{MASKED_FROM[release]}.json").read_text())["methods"]}
            for m in methods:
                unmask(m["params"], strip(before[m["name"]]["params"]) if m["name"] in before else None)
        write(dst, release, methods)
        write_returns(dst, release, dump["methods"], wanted)
    write_returns(dst, "v25.04.2", json.loads((src / "v25.04.2.json").read_text())["methods"], wanted)
    approximation = "v25.04.2 + v25.10.5 fill - removals + v24.10-overlay.json"
    write(dst, "v24.10", legacy_table(src, dst / "v24.10-overlay.json"), approximated_from=approximation)
    approximation = "v25.04.2 + v25.10.5 fill (minus 25.10 names) + old names from v24.10-overlay.json"
    write(dst, "v25.04.2", partial_table(src, dst, dst / "v25.04-overlay.json"), approximated_from=approximation)


if __name__ == "__main__":
    main(*sys.argv[1:3])
