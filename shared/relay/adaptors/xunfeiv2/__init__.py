"""iFlytek Spark V2 (type 48): an OpenAI-protocol upstream."""
