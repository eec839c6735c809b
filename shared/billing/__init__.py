"""Billing: ratios (`ratios`, data in `ratio_table`), prompt-token estimation (`tokenizer`, with
`imagesize` for image headers) and quota arithmetic with image/audio checks (`pricing`)."""
