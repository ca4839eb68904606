"""An OAuth-protected MCP server from the Python SDK, for the end-to-end tests: it speaks every
revision the SDK does, including the stateless 2026-07-28 one (`server/discover`, one request
per POST, no session), and accepts only JWT access tokens from ISSUER whose audience is its own
URL, as the tests' TypeScript servers do.

    python server.py --port PORT --issuer ISSUER
"""

import argparse
import json
import urllib.request

import jwt
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer


class JwtVerifier:
    """Checks signature, issuer, audience and type of an RFC 9068 access token."""

    def __init__(self, issuer: str, resource: str) -> None:
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as response:
            metadata = json.load(response)
        self.jwks = jwt.PyJWKClient(metadata["jwks_uri"])
        self.issuer = issuer
        self.resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            if jwt.get_unverified_header(token).get("typ") != "at+jwt":
                return None
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=self.resource, issuer=self.issuer)
        except jwt.PyJWTError:
            return None
        return AccessToken(
            token=token,
            client_id=claims.get("client_id", ""),
            scopes=claims.get("scope", "").split(),
            expires_at=claims.get("exp"),
            resource=self.resource,
            subject=claims.get("sub"),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issuer", required=True)
    args = parser.parse_args()
    resource = f"http://127.0.0.1:{args.port}/mcp"

    server = MCPServer(
        "bindify-python-server",
        token_verifier=JwtVerifier(args.issuer, resource),
        auth=AuthSettings(issuer_url=args.issuer, resource_server_url=resource, validate_token_resource=True),
    )

    @server.tool()
    def echo(text: str) -> str:
        """Returns the text it was given."""
        return text

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    app = server.streamable_http_app(host="127.0.0.1")
    print(json.dumps({"url": resource}), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
