"""StepFun (type 32): an OpenAI-protocol upstream."""
