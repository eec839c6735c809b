"""The compact token and user tables (shared.tables) against a plain dict model: any sequence of
inserts, updates, key changes and deletions reads back the same, before and after a trip over the
wire (dump/load) and a compaction; a malformed table is refused; and a row costs what the README
says (measured with tracemalloc: bytes, not time)."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.keys import key_hash
from shared.limits import Limits
from shared.snapshot import TokenEntry, UserEntry, put_token, put_user, token_at, tokens_by_id, tokens_by_key, user_entry, users_by_id
from shared.tables import TokenTable, UserTable

names = st.text(max_size=12)
quota = st.integers(-(2**62), 2**62)
token_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"),
            st.integers(1, 40),  # id
            st.integers(0, 60),  # key number: a token's key may change, or collide with another's old key
            st.integers(1, 4),  # status
            quota,
            st.sampled_from(["", "gpt-4", "gpt-4,claude-3"]),
            st.sampled_from(["", "10.0.0.0/8", "127.0.0.1,::1"]),
            st.integers(0, 3),  # rpm limit
            names,
        ),
        st.tuples(st.just("delete"), st.integers(1, 40)),
    ),
    max_size=120,
)


def _token(ident: int, key: int, status: int, remain: int, models: str, subnet: str, rpm: int, name: str) -> TokenEntry:
    from shared.snapshot import token_entry

    return token_entry(
        {
            "id": ident,
            "user_id": ident % 7,
            "key": f"key-{key}",
            "name": name,
            "status": status,
            "expired_time": -1 if ident % 2 else 1_900_000_000 + ident,
            "remain_quota": remain,
            "unlimited_quota": ident % 3 == 0,
            "used_quota": abs(remain) // 2,
            "models": models,
            "subnet": subnet,
            "rpm_limit": rpm,
        }
    )


def _same(entry: TokenEntry, model: TokenEntry) -> None:
    assert entry == TokenEntry(**{**{f: getattr(model, f) for f in TokenEntry.__slots__}, "key_hash": model.key_hash[:32]})


@settings(max_examples=150, deadline=None)
@given(token_ops)
def test_token_table_reads_like_a_dict_of_entries(ops: list[tuple]) -> None:
    table = TokenTable()
    model: dict[int, TokenEntry] = {}
    for op in ops:
        if op[0] == "put":
            entry = _token(*op[1:])
            # Keys are unique in the database: a token taking a key frees it from whoever had it.
            for other in [t for t in model.values() if t.key_hash == entry.key_hash and t.id != entry.id]:
                table.delete_id(other.id)
                del model[other.id]
            put_token(table, entry)
            model[entry.id] = entry
        else:
            assert table.delete_id(op[1]) == (op[1] in model)
            model.pop(op[1], None)
    for candidate in (table, TokenTable.load(table.dump())):
        by_key, by_id = tokens_by_key(candidate), tokens_by_id(candidate)
        assert len(by_id) == len(model) and sorted(by_id) == sorted(model)
        for ident, entry in model.items():
            _same(by_id[ident], entry)
            _same(by_key[entry.key_hash], entry)
        live_keys = {t.key_hash for t in model.values()}
        for number in range(61):
            h = key_hash(f"key-{number}")
            assert (h in by_key) == (h in live_keys)
        candidate.compact()
        assert sorted(tokens_by_id(candidate)) == sorted(model)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), names, st.sampled_from(["default", "vip"]), st.integers(0, 2), quota), max_size=80))
def test_user_table_reads_like_a_dict_of_entries(ops: list[tuple]) -> None:
    table = UserTable()
    model: dict[int, UserEntry] = {}
    for ident, name, group, status, amount in ops:
        if status == 0:
            table.delete_id(ident)
            model.pop(ident, None)
            continue
        entry = user_entry({"id": ident, "username": name, "group": group, "status": status, "role": 1, "quota": amount, "used_quota": 5})
        put_user(table, entry)
        model[ident] = entry
    for candidate in (table, UserTable.load(table.dump())):
        view = users_by_id(candidate)
        assert {i: view[i] for i in view} == model


def test_ids_far_apart_do_not_make_the_index_huge() -> None:
    table = TokenTable()
    for ident in (1, 2, 2**31 - 1):
        put_token(table, _token(ident, ident, 1, 10, "", "", 0, "t"))
    assert len(table.by_id.dense) < 70_000 and 2**31 - 1 in table.by_id.sparse
    assert tokens_by_id(TokenTable.load(table.dump()))[2**31 - 1].name == "t"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],  # a part cut short
        lambda data: data + b"x",  # trailing bytes
        lambda data: data.replace(b'"live"', b'"lost"'),  # meta without a field
    ],
)
def test_a_malformed_table_is_refused(damage) -> None:
    table = TokenTable()
    put_token(table, _token(1, 1, 1, 10, "", "", 0, "t"))
    with pytest.raises((ValueError, KeyError)):
        TokenTable.load(damage(table.dump()))


def test_a_token_row_costs_under_100_bytes() -> None:
    """The slave's memory goal at 1,000,000 tokens (issue 11: 200 MB) rests on this figure."""
    rows = 50_000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    table = TokenTable()
    for i in range(1, rows + 1):
        table.put(
            i,
            bytes.fromhex(key_hash(f"k{i}")[:32]),
            user_id=i // 5,
            name=f"token-{i}",
            status=1,
            expired_time=-1,
            remain_quota=500_000,
            unlimited_quota=False,
            used_quota=0,
            models="",
            subnet="",
            limits=Limits(),
        )
    loaded = TokenTable.load(table.dump())  # a slave holds the loaded copy: exact sizes
    del table
    cost = (tracemalloc.get_traced_memory()[0] - before) / rows
    tracemalloc.stop()
    assert cost < 100, f"{cost:.0f} bytes a token"
    assert token_at(loaded, loaded.row_of_id(rows)).name == f"token-{rows}"
