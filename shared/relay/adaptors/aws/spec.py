"""AWS Bedrock (type 33): Claude and Llama 3 through InvokeModel and InvokeModelWithResponseStream, SigV4-signed.

Credentials: config `ak`, `sk`, `region`, or the key `ak|sk|region`. The URL is the region's
bedrock-runtime endpoint, or the channel's base URL when it has one (a VPC endpoint, a proxy)."""

from __future__ import annotations

from shared.relay.adaptors.aws.adaptor import BedrockAdaptor
from shared.relay.adaptors.spec import API_AWS_CLAUDE, KEY_COMPOSED, REGION, ChannelSpec, ConfigField, Text

# Bedrock model name -> Bedrock model id (One API iterates a Go map, so its order is random;
# here it is fixed: Claude first, then Llama 3).
AWS_MODEL_IDS = (
    ("claude-instant-1.2", "anthropic.claude-instant-v1"),
    ("claude-2.0", "anthropic.claude-v2"),
    ("claude-2.1", "anthropic.claude-v2:1"),
    ("claude-3-haiku-20240307", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("claude-3-sonnet-20240229", "anthropic.claude-3-sonnet-20240229-v1:0"),
    ("claude-3-opus-20240229", "anthropic.claude-3-opus-20240229-v1:0"),
    ("claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("claude-3-5-sonnet-20241022", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("claude-3-5-sonnet-latest", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("claude-3-5-haiku-20241022", "anthropic.claude-3-5-haiku-20241022-v1:0"),
    ("llama3-8b-8192", "meta.llama3-8b-instruct-v1:0"),
    ("llama3-70b-8192", "meta.llama3-70b-instruct-v1:0"),
)
MODELS = tuple(name for name, _ in AWS_MODEL_IDS)

SPECS = (
    ChannelSpec(
        id=33,
        name="AwsClaude",
        label=Text("AWS", "AWS"),
        api_type=API_AWS_CLAUDE,
        adaptor=BedrockAdaptor(),
        models=MODELS,
        owner="aws",
        catalogued=True,
        key_format=KEY_COMPOSED,
        key_from_fields=("ak", "sk", "region"),
        fields=(
            ConfigField("config.region", REGION, placeholder="us-west-2"),
            ConfigField("config.ak", Text("Access key (AK)", "Access Key (AK)")),
            ConfigField("config.sk", Text("Secret key (SK)", "Secret Key (SK)"), secret=True),
        ),
    ),
)
