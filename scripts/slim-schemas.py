#!/usr/bin/env python3
"""Slim TrueNAS API dumps to the structure truenas-mcp embeds.

Keeps, per method: name, job, roles, removed_in and the positional params schema with
every prose keyword (description, title, examples) removed, except the `title` of each
positional param, which is the param's name. TrueNAS's documentation text
is not embedded; types, required keys, enums, bounds and defaults are.

It also builds the table of TrueNAS 24.10, for which no dump exists (see `about` in
schemas/v24.10-overlay.json): the v25.04.2 dump, filled from v25.10.5, minus the overlay's
`remove` names, plus its hand-written `methods`.

usage: scripts/slim-schemas.py ../shared/reference/truenas-api schemas
"""
import json
import pathlib
import sys

PROSE = {"description", "title", "examples", "doc"}
RELEASES = ["v25.10.5", "v26.0.0"]


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
        params = entry.get("params")
        if "params_from" in entry:
            params = strip(fill[entry["params_from"]]["params"])
        elif isinstance(params, str):
            params = overlay["shared"][params.lstrip("$")]
        table[entry["name"]] = {
            "name": entry["name"],
            "job": entry["job"],
            "roles": entry["roles"],
            "removed_in": None,
            "params": params,
        }
    for m in table.values():
        m["removed_in"] = None  # announcements of later releases say nothing about 24.10
    return list(table.values())


def main(src, dst):
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for release in RELEASES:
        dump = json.loads((src / f"{release}.json").read_text())
        write(dst, release, [slim(m) for m in dump["methods"]])
    approximation = "v25.04.2 + v25.10.5 fill - removals + v24.10-overlay.json"
    write(dst, "v24.10", legacy_table(src, dst / "v24.10-overlay.json"), approximated_from=approximation)


if __name__ == "__main__":
    main(*sys.argv[1:3])
