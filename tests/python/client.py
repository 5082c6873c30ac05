"""An independent MCP client (the Python `mcp` SDK) driving truenas-mcp over stdio.

usage: client.py BINARY [ARGS...]   (TRUENAS_* variables come from the environment)
Prints one JSON object describing what the client saw.
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    binary, args = sys.argv[1], sys.argv[2:]
    params = StdioServerParameters(command=binary, args=args, env=dict(os.environ))
    seen = {"progress": []}

    async def on_progress(progress, total, message):
        seen["progress"].append({"progress": progress, "total": total, "message": message})

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            seen["server"] = init.server_info.name
            tools = await session.list_tools()
            seen["tools"] = [t.name for t in tools.tools]

            async def call(category, action=None, **p):
                arguments = {"category": category}
                if action:
                    arguments["action"] = action
                    arguments["params"] = p
                r = await session.call_tool("truenas", arguments, progress_callback=on_progress)
                return {"error": bool(r.is_error), "text": "".join(c.text for c in r.content if c.type == "text")}

            seen["categories"] = await call("help")
            seen["vm_list"] = await call("vm", "vm_list")
            seen["vm_stop"] = await call("vm", "vm_stop", id=1)
            seen["vm_delete"] = await call("vm", "vm_delete", id=2, confirm=True)
            seen["bad_args"] = await call("vm", "vm_get", id="one")
    print(json.dumps(seen))


asyncio.run(main())
