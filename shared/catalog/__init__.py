"""Static facts about providers: the channel-type table and the model catalogue."""

from shared.catalog.catalogue import (
    OpenAIModel,
    catalogue_lookup,
    channel_models,
    custom_model,
    model_catalogue,
    models_by_channel_type,
)
from shared.catalog.channel_types import ChannelType, api_type, channel_type, default_base_url

__all__ = [
    "ChannelType",
    "OpenAIModel",
    "api_type",
    "catalogue_lookup",
    "channel_models",
    "channel_type",
    "custom_model",
    "default_base_url",
    "model_catalogue",
    "models_by_channel_type",
]
