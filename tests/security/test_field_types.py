"""Known request fields with a wrong JSON type get One API's 400 (issue 12 item 9): its
`GeneralOpenAIRequest` decoding fails with Go's message and code `invalid_text_request`, and the
request never reaches the upstream. `null` and unknown fields still pass."""

from __future__ import annotations

import orjson

from tests.support.relay import bearer
from tests.support.relay_kit import CHAT, error_of, relay_world

CASES = [
    ({"temperature": "hot"}, "json: cannot unmarshal string into Go struct field GeneralOpenAIRequest.temperature of type float64"),
    ({"n": "2"}, "json: cannot unmarshal string into Go struct field GeneralOpenAIRequest.n of type int"),
    ({"n": 1.5}, "json: cannot unmarshal number 1.5 into Go struct field GeneralOpenAIRequest.n of type int"),
    ({"top_p": True}, "json: cannot unmarshal bool into Go struct field GeneralOpenAIRequest.top_p of type float64"),
    ({"user": 7}, "json: cannot unmarshal number 7 into Go struct field GeneralOpenAIRequest.user of type string"),
    ({"tools": {"a": 1}}, "json: cannot unmarshal object into Go struct field GeneralOpenAIRequest.tools of type slice"),
    ({"stream_options": "yes"}, "json: cannot unmarshal string into Go struct field GeneralOpenAIRequest.stream_options of type struct"),
    (
        {"messages": [{"role": 5, "content": "hi"}]},
        "json: cannot unmarshal number 5 into Go struct field Message.messages.role of type string",
    ),
]


async def test_wrong_field_types_get_400_before_the_upstream(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token()
        for extra, message in CASES:
            resp = await w.chat(token, **extra)
            assert resp.status_code == 400, (extra, resp.text)
            err = error_of(resp)
            assert (err["type"], err["code"], err["param"]) == ("one_api_error", "invalid_text_request", ""), err
            assert err["message"].startswith(message + " (request id: "), err
        for path, body in (
            ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "x", "max_tokens": 3, "temperature": "warm"}),
            ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x", "dimensions": "big"}),
        ):
            resp = await w.root.post(path, headers=bearer(token), content=orjson.dumps(body))
            assert resp.status_code == 400 and error_of(resp)["code"] == "invalid_text_request", resp.text
        assert fake_upstream.requests == []

        # null for a known field and unknown fields of any type are One API's to pass on.
        resp = await w.chat(token, temperature=None, n=None, some_vendor_field={"x": "y"}, messages=CHAT)
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.json()["some_vendor_field"] == {"x": "y"}
