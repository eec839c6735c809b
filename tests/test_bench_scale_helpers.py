"""The pure parts of `make bench-scale` (tests/bench/scale_*.py): the open-loop schedule, /proc and
`ss` parsing, the metrics counter, and the bench's token keys."""

from __future__ import annotations

import os
import string

import pytest

from tests.bench.scale import parse_args
from tests.bench.scale_install import bench_key, database_name, token_owner
from tests.bench.scale_load import percentile, send_times
from tests.bench.scale_probe import (
    CLK_TCK,
    parse_bytes_acked,
    parse_counter,
    parse_stat_cpu,
    parse_status_rss_kb,
    process_tree,
    rss_mb,
)


def test_send_times_are_a_fixed_rate_independent_of_answers() -> None:
    times = send_times(200, 2)
    assert len(times) == 400
    assert times[0] == 0.0
    assert times[1] == 1 / 200
    assert times[-1] == 399 / 200
    assert send_times(0, 5) == [] and send_times(10, 0) == []


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_stat_cpu_counts_fields_after_the_last_parenthesis() -> None:
    # A command name holding ") " must not shift the fields: utime 250, stime 50 ticks.
    fields = ["S", "1", "1", "1", "0", "-1", "4194560", "10", "0", "0", "0", "250", "50"] + ["0"] * 30
    stat = "4242 (one-api) (x) " + " ".join(fields)
    assert parse_stat_cpu(stat) == 300 / CLK_TCK


def test_status_rss() -> None:
    status = "Name:\tpython\nVmPeak:\t  300000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 100000 kB\n"
    assert parse_status_rss_kb(status) == 123456
    assert parse_status_rss_kb("Name:\tzombie\nState:\tZ (zombie)\n") == 0


def test_this_process_is_read_from_proc() -> None:
    assert os.getpid() in process_tree(os.getpid())
    assert rss_mb(os.getpid()) > 0


def test_ss_bytes_acked_summed_over_sockets() -> None:
    out = (
        "0 0 127.0.0.1:25001 127.0.0.1:40000\n\t cubic wscale:7,7 rto:204 bytes_sent:5000 bytes_acked:4801 bytes_received:90\n"
        "0 0 127.0.0.1:25001 127.0.0.1:40002\n\t cubic rto:204 bytes_acked:1200 bytes_received:10 segs_out:9\n"
    )
    assert parse_bytes_acked(out) == 6001
    assert parse_bytes_acked("") == 0


def test_counter_sums_label_sets_and_ignores_longer_names() -> None:
    text = (
        "# HELP oneapi_cluster_sent_bytes_total Bytes sent.\n"
        "# TYPE oneapi_cluster_sent_bytes_total counter\n"
        'oneapi_cluster_sent_bytes_total{kind="watch"} 1000.0\n'
        'oneapi_cluster_sent_bytes_total{kind="redis"} 24.0\n'
        "oneapi_cluster_sent_bytes_total_created 1.7e9\n"
    )
    assert parse_counter(text, "oneapi_cluster_sent_bytes_total") == 1024.0
    assert parse_counter("other_total 3\n", "oneapi_cluster_sent_bytes_total") is None


def test_bench_keys_have_the_shape_of_generated_keys() -> None:
    keys = {bench_key(n) for n in range(1, 2001)}
    assert len(keys) == 2000
    key = bench_key(7)
    assert key == bench_key(7)
    assert len(key) == 48 and all(c in string.ascii_letters + string.digits for c in key)
    tail = key[16:]
    assert all(c in string.hexdigits for c in tail)
    assert all(not c.isalpha() or c.isupper() == (i % 2 == 0) for i, c in enumerate(tail))


def test_tokens_spread_over_users_never_root() -> None:
    owners = [token_owner(n, 200) for n in range(1, 1001)]
    assert min(owners) == 2 and max(owners) == 201
    assert owners.count(2) == 5


def test_seconds_zero_runs_the_ingestion_ceiling_alone_in_one_mode() -> None:
    args = parse_args(["--sizes", "10_000,100000", "--seconds", "0", "--db-tag", "wt"])
    assert args.sizes == [10000, 100000] and args.modes == ("redis",) and args.db_tag == "wt"
    assert database_name(10000, args.db_tag) == "oneapi_bench_scale_10000_wt" and database_name(10000) == "oneapi_bench_scale_10000"
    with pytest.raises(SystemExit):
        parse_args(["--seconds", "0", "--ingest-seconds", "0"])  # nothing would be measured
    assert parse_args(["--seconds", "0", "--no-redis"]).modes == ("no-redis",)
