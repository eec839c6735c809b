"""OpenRouter (type 20): One API's attribution headers on every request; its list is not catalogued."""
