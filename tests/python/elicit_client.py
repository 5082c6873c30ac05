"""The Python `mcp` SDK as a client whose user answers approval forms (elicitation).

usage: elicit_client.py BINARY ANSWER [ARGS...]   (ANSWER: approve, or deny:REASON)
Calls `vm_stop` once and prints one JSON object: what the form said and what the call answered.
"""
import asyncio
import json
import os
import sys

import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main():
    binary, answer, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    params = StdioServerParameters(command=binary, args=args, env=dict(os.environ))
    seen = {"asked": []}

    async def on_elicit(context, request):
        seen["asked"].append({"message": request.message, "schema": request.requested_schema})
        if answer == "approve":
            return types.ElicitResult(action="accept", content={"decision": "approve"})
        reason = answer.split(":", 1)[1] if ":" in answer else ""
        return types.ElicitResult(action="accept", content={"decision": "deny", "reason": reason})

    async with stdio_client(params) as (read, write):
        client_info = types.Implementation(name="python-elicit", version="1.0")
        async with ClientSession(read, write, elicitation_callback=on_elicit, client_info=client_info) as session:
            init = await session.initialize()
            seen["protocol"] = init.protocol_version
            r = await session.call_tool("truenas", {"category": "vm", "action": "vm_stop", "params": {"id": 1}})
            seen["error"] = bool(r.is_error)
            seen["text"] = "".join(c.text for c in r.content if c.type == "text")
    print(json.dumps(seen))


asyncio.run(main())
