"""The fake Vertex AI: Google's OAuth token endpoint (POST /token) and the publisher model routes
`/v1/projects/{p}/locations/{r}/publishers/{google|anthropic}/models/{m}:{action}`.

The token endpoint checks what Google's does for a service account's JWT-bearer grant: an RS256
assertion signed by the account's key, issued by its email, for this audience and the
cloud-platform scope, not expired; then it issues a short random access token. The model routes
accept only tokens it issued (401 UNAUTHENTICATED otherwise), and Claude bodies must carry
`anthropic_version: vertex-2023-10-16` and no `model`. Use `service_account_json()` for a key the
fake knows."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.responses import Response

from tests.fake_upstream import anthropic, gemini
from tests.fake_upstream.common import Call

PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/publishers/(?P<publisher>google|anthropic)"
    r"/models/(?P<model>[^/:]+):(?P<action>[A-Za-z]+)$"
)
TOKEN_PATH = "/token"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
AUDIENCE = "https://oauth2.googleapis.com/token"  # what Google checks, wherever the grant is posted

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PEM = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
_lock = threading.Lock()
_issued: dict[str, str] = {}  # access token -> the service account it was issued to
exchanges: list[str] = []  # client emails, one per successful token exchange


def service_account_json(token_uri: str, email: str = "relay@fake-project.iam.gserviceaccount.com", project: str = "fake-project") -> str:
    """A service account JSON key signed by the fake's key; its token_uri points at the fake."""
    return orjson.dumps(
        {
            "type": "service_account",
            "project_id": project,
            "private_key_id": "fakekeyid",
            "private_key": _PEM,
            "client_email": email,
            "client_id": "1234567890",
            "token_uri": token_uri,
        }
    ).decode()


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response(orjson.dumps({"error": error, "error_description": description}), status_code=status, media_type="application/json")


def token(call: Call) -> Response:
    form = parse_qs(call.body.decode("latin-1"))
    if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or len(form.get("assertion", [])) != 1:
        return _oauth_error("unsupported_grant_type", "Invalid grant_type")
    try:
        header_b64, claims_b64, signature_b64 = form["assertion"][0].split(".")
        header, claims = orjson.loads(_b64(header_b64)), orjson.loads(_b64(claims_b64))
        _KEY.public_key().verify(_b64(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, orjson.JSONDecodeError, InvalidSignature):
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    now = time.time()
    if header.get("alg") != "RS256" or claims.get("aud") != AUDIENCE:
        return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
    if not isinstance(claims.get("exp"), int) or not claims["exp"] > now or claims["exp"] - claims.get("iat", 0) > 3600:
        return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
    if SCOPE not in str(claims.get("scope", "")).split():
        return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    email = str(claims.get("iss") or "")
    if email.startswith("disabled"):
        return _oauth_error("invalid_grant", "Invalid grant: account not found")
    access = "ya29.fake-" + secrets.token_urlsafe(16)
    with _lock:
        _issued[access] = email
        exchanges.append(email)
    return Response(orjson.dumps({"access_token": access, "expires_in": 3599, "token_type": "Bearer"}), media_type="application/json")


def _google_error(status: int, rpc_status: str, message: str) -> Response:
    return Response(
        orjson.dumps({"error": {"code": status, "message": message, "status": rpc_status}}),
        status_code=status,
        media_type="application/json",
    )


def predict(call: Call, publisher: str, model: str, action: str) -> Response | None:
    auth = call.request.headers.get("authorization", "")
    with _lock:
        known = auth.startswith("Bearer ") and auth[7:] in _issued
    if not known:
        return _google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.")
    if publisher == "google":
        return gemini.dispatch(call, model, action)
    if action not in ("rawPredict", "streamRawPredict"):
        return None
    doc: Any = call.doc
    if not isinstance(doc, dict) or doc.get("anthropic_version") != "vertex-2023-10-16" or "model" in doc:
        return _google_error(400, "INVALID_ARGUMENT", "anthropic_version: vertex-2023-10-16 is required and model is not allowed")
    if bool(doc.get("stream")) != (action == "streamRawPredict"):
        return _google_error(400, "INVALID_ARGUMENT", "stream must match the method")
    return anthropic.messages(call)


error_response = gemini.error_response  # Vertex answers errors in Google's RPC shape
