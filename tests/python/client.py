"""An MCP client from the Python SDK, for the end-to-end tests: connects to one URL, lists the
tools, calls one, and prints what happened as one JSON line.

    python client.py --url URL [--transport streamable|sse] [--mode legacy|auto|2026-07-28]
                     [--call NAME --arguments JSON]
"""

import argparse
import asyncio
import json
import sys

from mcp import Client
from mcp.client.sse import sse_client


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--transport", choices=["streamable", "sse"], default="streamable")
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--call")
    parser.add_argument("--arguments", default="{}")
    args = parser.parse_args()

    server = args.url if args.transport == "streamable" else sse_client(args.url)
    async with Client(server, mode=args.mode) as client:
        session = client.session
        tools = await client.list_tools()
        outcome = {
            "protocol_version": client.protocol_version,
            "discovered": session.discover_result is not None,
            "initialized": session.initialize_result is not None,
            "server": client.server_info.name if client.server_info else None,
            "tools": sorted(tool.name for tool in tools.tools),
        }
        if args.call:
            result = await client.call_tool(args.call, json.loads(args.arguments))
            outcome["is_error"] = bool(result.is_error)
            outcome["text"] = "".join(getattr(c, "text", "") for c in result.content)
    print(json.dumps(outcome), flush=True)


def innermost(error: BaseException) -> BaseException:
    """The first leaf of a (nested) exception group: what actually went wrong."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as error:  # noqa: BLE001 - report every failure to the test as one line
        cause = innermost(error)
        print(json.dumps({"error": type(cause).__name__, "message": str(cause)}), flush=True)
        sys.exit(1)
