"""Azure OpenAI URLs: `/openai/deployments/{deployment}/{task}?api-version=…` (docs/one-api-compat.md §5.8)."""

from __future__ import annotations

from shared.relay import modes
from shared.relay.adaptors.common import path_segment
from shared.relay.adaptors.openai.request import full_url
from shared.relay.adaptors.spec import Route
from shared.relay.types import RelayMeta

# Behind a Cloudflare AI Gateway the gateway URL already names the Azure resource.
_GATEWAY = Route(gateway_drop_prefix="/openai/deployments")


def azure_url(meta: RelayMeta) -> str:
    version = path_segment(meta.config.get("api_version", ""))
    base = meta.base_url
    model = path_segment(meta.actual_model)
    if meta.mode == modes.IMAGES:
        return f"{base}/openai/deployments/{model}/images/generations?api-version={version}"
    # Audio keeps the mapped model as the deployment name; translations use the generic path.
    if meta.mode == modes.TRANSCRIPTION:
        return f"{base}/openai/deployments/{model}/audio/transcriptions?api-version={version}"
    if meta.mode == modes.SPEECH:
        return f"{base}/openai/deployments/{model}/audio/speech?api-version={version}"
    if meta.mode == modes.TRANSLATION:
        return full_url(base, meta.request_path, _GATEWAY)
    task = meta.request_path.split("?", 1)[0].removeprefix("/v1/")
    # Azure deployment names cannot contain dots: gpt-3.5-turbo is deployed as gpt-35-turbo.
    deployment = path_segment(meta.actual_model.replace(".", ""))
    return full_url(base, f"/openai/deployments/{deployment}/{task}?api-version={version}", _GATEWAY)
