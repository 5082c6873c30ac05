"""A validating MCP client (the Python `mcp` SDK) calling truenas-mcp's flat tools.

usage: structured_client.py CALLS.json BINARY [ARGS...]   (TRUENAS_* variables from the environment)

CALLS.json is a list of [tool, arguments]. The SDK checks every successful result of a tool that
declares an `outputSchema` against it, and raises when `structuredContent` is missing or breaks
it. Prints one JSON object: the tools listed with an output schema, and per call what came back.
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    calls_path, binary, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(calls_path) as f:
        calls = json.load(f)
    params = StdioServerParameters(command=binary, args=args, env=dict(os.environ))
    seen = {"with_output_schema": [], "calls": []}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            seen["with_output_schema"] = [t.name for t in tools.tools if t.output_schema is not None]
            for name, arguments in calls:
                entry = {"tool": name}
                try:
                    r = await session.call_tool(name, arguments)
                    entry["error"] = bool(r.is_error)
                    sc = r.structured_content
                    entry["structured"] = None if sc is None else sorted(sc.keys())
                    entry["text"] = "".join(c.text for c in r.content if c.type == "text")[:300]
                except RuntimeError as e:
                    # The SDK's verdict on structured content: what must never happen.
                    entry["violation"] = str(e)[:500]
                seen["calls"].append(entry)
    print(json.dumps(seen))


asyncio.run(main())
