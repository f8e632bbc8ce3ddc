"""Costs: prices from MODEL_PRICING_FILE and the API, a cost per finished job (local = 0),
and GET /v1/costs/summary by provider and model over a day, week or month."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.costs.pricing import Price, Usage, cost_usd, parse_prices
from core.errors import InvalidInput
from testkit.compat import MODEL, compat_fleet
from testkit.support import eventually


@pytest.mark.slow
async def test_finished_jobs_cost_by_their_model_price(
    database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    pricing = tmp_path / "pricing.json"
    pricing.write_text(json.dumps({"openai/gpt-4o-mini": {"input": 0.15, "output": 0.6}}))
    async with (
        compat_fleet(database_url, db, cloud=True, model_pricing_file=str(pricing)) as fleet,
        httpx.AsyncClient(base_url=fleet.core.http_url, timeout=30) as http,
    ):
        listed = (await http.get("/v1/costs/pricing")).json()["prices"]
        assert [(p["provider"], p["model"], p["source"]) for p in listed] == [
            ("openai", "gpt-4o-mini", "file")
        ]
        for model in ("openai/gpt-4o-mini", "openai/gpt-4o", MODEL):
            answer = await http.post(
                "/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
            )
            assert answer.status_code == 200, answer.text
        await eventually(lambda: _count(db, 3))
        summary = (await http.get("/v1/costs/summary", params={"period": "day"})).json()
        by = {(r["provider"], r["model"]): r for r in summary["by_model"]}
        # FakeOpenAI: 3 tokens in, 7 out.
        assert by[("openai", "gpt-4o-mini")]["cost_usd"] == pytest.approx(
            (3 * 0.15 + 7 * 0.6) / 1e6
        )
        assert by[("ollama", MODEL)]["cost_usd"] == 0 and by[("ollama", MODEL)]["tokens_out"] == 20
        assert by[("openai", "gpt-4o")]["unpriced_jobs"] == 1
        assert summary["jobs"] == 3 and summary["unpriced_jobs"] == 1

        # A price set through the API prices the next gpt-4o job.
        put = await http.put(
            "/v1/costs/pricing",
            json={
                "prices": [
                    {"provider": "openai", "model": "*", "input_per_1m": 2.5, "output_per_1m": 10}
                ]
            },
        )
        assert put.status_code == 200
        await http.post(
            "/v1/chat/completions",
            json={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        )
        await eventually(lambda: _count(db, 4))
        summary = (await http.get("/v1/costs/summary")).json()
        by = {(r["provider"], r["model"]): r for r in summary["by_model"]}
        assert by[("openai", "gpt-4o")]["cost_usd"] == pytest.approx((3 * 2.5 + 7 * 10) / 1e6)
        assert summary["total_usd"] == pytest.approx(sum(r["cost_usd"] for r in by.values()))


async def _count(db: asyncpg.Connection, n: int) -> bool:
    return await db.fetchval("SELECT count(*) FROM job_costs") == n


async def test_summary_periods(http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    for days_ago, cost in ((0.1, 1.0), (2, 10.0), (20, 100.0), (40, 1000.0)):
        await db.execute(
            "INSERT INTO job_costs (job_id, finished_at, provider, model, cost_usd) "
            "VALUES ($1, now() - make_interval(secs => $2), 'openai', 'gpt-4o', $3)",
            uuid.uuid4(),
            days_ago * 86400,
            cost,
        )
    totals = {}
    for period in ("day", "week", "month"):
        body = (await http.get("/v1/costs/summary", params={"period": period})).json()
        totals[period] = (body["total_usd"], body["jobs"])
    assert totals == {"day": (1.0, 1), "week": (11.0, 2), "month": (111.0, 3)}
    bad = await http.get("/v1/costs/summary", params={"period": "year"})
    assert bad.status_code == 422


async def test_bad_prices_are_refused(http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await http.put(
        "/v1/costs/pricing",
        json={
            "prices": [{"provider": "openai", "model": "x", "input_per_1m": -1, "output_per_1m": 1}]
        },
    )
    assert response.status_code == 422
    price = {"provider": "openai", "model": "x", "input_per_1m": 1, "output_per_1m": 1}
    twice = await http.put("/v1/costs/pricing", json={"prices": [price, price]})
    assert twice.status_code == 422 and "priced twice" in twice.json()["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM model_pricing") == 0


def test_pricing_file_formats_and_cost() -> None:
    as_map = parse_prices('{"openrouter/google/gemini-2.0-flash": {"input": 0.1, "output": 0.4}}')
    assert as_map == [
        Price(
            provider="openrouter",
            model="google/gemini-2.0-flash",
            input_per_1m=0.1,
            output_per_1m=0.4,
        )
    ]
    as_list = parse_prices(
        '[{"provider": "openai", "model": "*", "input_per_1m": 1, "output_per_1m": 2}]'
    )
    assert as_list[0].model == "*"
    with pytest.raises(InvalidInput):
        parse_prices('{"gpt-4o": {"input": 1, "output": 2}}')
    with pytest.raises(InvalidInput):
        parse_prices("not json")
    price = as_list[0]
    assert cost_usd(Usage("openai", "gpt-4o", 1_000_000, 500_000), price) == 2.0
    assert cost_usd(Usage("ollama", "llama3.2:1b", 10**9, 10**9), None) == 0.0
    assert cost_usd(Usage("openai", "gpt-4o", 10, 10), None) is None
