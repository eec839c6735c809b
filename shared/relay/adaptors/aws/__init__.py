"""AWS Bedrock (type 33): Claude and Llama 3 through InvokeModel, SigV4-signed. Not relayed yet: `adaptor=None` makes the engine answer "channel type … is not supported yet"."""
