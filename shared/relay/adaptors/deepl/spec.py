"""DeepL (type 38): /v2/translate with `DeepL-Auth-Key`, the target language from the model suffix."""

from __future__ import annotations

from shared.relay.adaptors.deepl.adaptor import DeepLAdaptor
from shared.relay.adaptors.spec import API_DEEPL, ChannelSpec, Text

MODELS = ("deepl-zh", "deepl-en", "deepl-ja")

SPECS = (
    ChannelSpec(
        id=38,
        name="DeepL",
        label=Text("DeepL", "DeepL"),
        api_type=API_DEEPL,
        adaptor=DeepLAdaptor(),
        base_url="https://api-free.deepl.com",
        models=MODELS,
        owner="deepl",
        catalogued=True,
        key_format=Text("The DeepL authentication key (free keys end in :fx)", "DeepL 认证密钥（免费版以 :fx 结尾）"),
    ),
)
