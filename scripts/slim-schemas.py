#!/usr/bin/env python3
"""Slim TrueNAS API dumps to the structure truenas-mcp embeds.

Keeps, per method: name, job, roles, removed_in and the positional params schema with
every prose keyword (description, title, examples) removed, except the `title` of each
positional param, which is the param's name. TrueNAS's documentation text
is not embedded; types, required keys, enums, bounds and defaults are.

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


def main(src, dst):
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    job_names = set()
    for release in RELEASES:
        dump = json.loads((src / f"{release}.json").read_text())
        methods = []
        for m in sorted(dump["methods"], key=lambda m: m["name"]):
            if m.get("job"):
                job_names.add(m["name"])
            methods.append({
                "name": m["name"],
                "job": bool(m.get("job")),
                "roles": m.get("roles") or [],
                "removed_in": m.get("removed_in"),
                "params": strip(m["params"]),
            })
        out = {"version": release, "methods": methods}
        (dst / f"{release}.json").write_text(json.dumps(out, separators=(",", ":"), sort_keys=False) + "\n")
        print(f"{release}: {len(methods)} methods")


if __name__ == "__main__":
    main(*sys.argv[1:3])
