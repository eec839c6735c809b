"""AWS Signature Version 4 for one request (the header form), as every AWS service but S3 checks it.

Written here rather than taken from botocore: the signature is some forty lines of hashing, and
botocore would add tens of megabytes to a node for them. tests/test_provider_aws.py checks it
against AWS's published SigV4 test-suite vectors.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_key).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def canonical_uri(path: str) -> str:
    """The path as sent (already percent-encoded), encoded once more: SigV4's rule for every service
    but S3 (a Bedrock model id's `:` travels as %3A and is signed as %253A)."""
    return quote(path or "/", safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&") if query else ():
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def host_of(url: str) -> str:
    """The Host header a client sends for `url` (the port only when it is not the scheme's default)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    when: datetime | None = None,
) -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date and Authorization; every header given is signed."""
    when = when or datetime.now(UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urlsplit(url)
    signed = {**headers, "Host": host_of(url), "X-Amz-Date": amz_date}
    canonical = {name.lower(): " ".join(value.split()) for name, value in signed.items()}
    names = sorted(canonical)
    request = "\n".join(
        (
            method,
            canonical_uri(parts.path),
            canonical_query(parts.query),
            "".join(f"{n}:{canonical[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(request.encode()).hexdigest()))
    signature = hmac.new(signing_key(secret_key, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    signed["Authorization"] = f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    return signed
