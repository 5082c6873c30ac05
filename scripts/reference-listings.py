#!/usr/bin/env python3
"""Extract the test oracle for the `truenas` tool's listing texts from the reference catalog.

For each of the reference server's 18 categories, writes its actions (name, description,
arguments with required flag and description) and the action listing that server prints for
the category. The reference records that its printed listings equal the static rendering of
its tools for every category (`categories_text_equal_static`) and keeps the observed `vm`
listing and category listing verbatim (the latter is written out too); this script renders every category by that rule and
refuses to write anything unless its rendering reproduces both observed texts exactly.

The output is test data only (src/catalog/testdata/reference_listings.json): the Rust test
feeds these actions to our listing code and expects these texts byte for byte.

usage: scripts/reference-listings.py ../shared/reference/spranab-catalog.json src/catalog/testdata/reference_listings.json
"""
import json
import sys


def cut(text):
    # JavaScript string length counts UTF-16 units.
    units = text.encode("utf-16-le")
    if len(units) // 2 <= 100:
        return text
    return units[: 97 * 2].decode("utf-16-le", errors="replace") + "..."


def arg_list(params):
    return ", ".join(f"{p['name']} ({cut(p['description'])})" if p.get("description") else p["name"] for p in params)


def render(category, tools):
    lines = [f"Category: {category['name']} — {category['description']}\n", f"{len(tools)} available actions:\n"]
    for t in tools:
        lines.append(f"  {t['name']} — {t['description']}")
        required = [p for p in t["params"] if p["required"]]
        optional = [p for p in t["params"] if not p["required"]]
        if required:
            lines.append(f"    Required: {arg_list(required)}")
        if optional:
            lines.append(f"    Optional: {arg_list(optional)}")
    return "\n".join(lines)


def main(source, target):
    ref = json.load(open(source))
    observed = ref["mcp_tool"]["observed_modes"]
    out = []
    for category in ref["categories"]:
        tools = [t for t in ref["tools"] if t["category"] == category["name"]]
        tools.sort(key=lambda t: t["registry_index"])
        if not observed["categories_text_equal_static"].get(category["name"]):
            sys.exit(f"the reference did not confirm the static listing of {category['name']}")
        out.append(
            {
                "name": category["name"],
                "description": category["description"],
                "actions": [
                    {
                        "name": t["name"],
                        "description": t["description"],
                        "args": [
                            {"name": p["name"], "required": p["required"], "description": p.get("description", "")}
                            for p in t["params"]
                        ],
                    }
                    for t in tools
                ],
                "text": render(category, tools),
            }
        )
    vm = next(c for c in out if c["name"] == "vm")
    if vm["text"] != observed["empty_action"]["text"]:
        sys.exit("rendering the vm listing does not reproduce the observed text")
    lines = [f"  {c['name']} ({len(c['actions'])} actions) — {c['description']}" for c in out]
    if not observed["no_args"]["text"].endswith("Categories:\n" + "\n".join(lines)):
        sys.exit("the category lines do not reproduce the observed category listing")
    with open(target, "w") as f:
        oracle = {
            "source": ref["source"]["repo"] + "@" + ref["source"]["commit"],
            "categories_text": observed["no_args"]["text"],
            "categories": out,
        }
        json.dump(oracle, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
