"""DeepL (type 38): /v2/translate, the target language from the model suffix. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
