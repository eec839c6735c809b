"""DeepL (type 38): /v2/translate, the target language from the model suffix.
Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""

from __future__ import annotations

from shared.relay.adaptors.spec import API_DEEPL, ChannelSpec, Text

MODELS = ("deepl-zh", "deepl-en", "deepl-ja")

SPECS = (
    ChannelSpec(
        id=38,
        name="DeepL",
        label=Text("DeepL", "DeepL"),
        api_type=API_DEEPL,
        adaptor=None,
        base_url="https://api-free.deepl.com",
        models=MODELS,
        owner="deepl",
        catalogued=True,
    ),
)
