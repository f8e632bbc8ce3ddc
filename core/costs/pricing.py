"""Model prices: parsing the pricing file / API body, and a job's cost. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from core.errors import InvalidInput

PERIODS = {"day": 1, "week": 7, "month": 30}
Period = Literal["day", "week", "month"]
LOCAL_PROVIDERS = ("ollama",)
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Price(BaseModel):
    """USD per 1M tokens; model "*" prices every model of the provider without its own row."""

    model_config = ConfigDict(extra="forbid")
    provider: Name
    model: Name
    input_per_1m: float = Field(ge=0, le=1_000_000)
    output_per_1m: float = Field(ge=0, le=1_000_000)


class PriceList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prices: list[Price] = Field(max_length=10_000)

    @field_validator("prices")
    @classmethod
    def _one_price_per_model(cls, prices: list[Price]) -> list[Price]:
        seen: set[tuple[str, str]] = set()
        for price in prices:
            key = (price.provider, price.model)
            if key in seen:
                raise ValueError(f"{price.provider}/{price.model} is priced twice")
            seen.add(key)
        return prices


@dataclass(frozen=True)
class Usage:
    provider: str
    model: str
    tokens_in: int
    tokens_out: int


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    """The cost of one job; 0 for local providers; None when the model has no price."""
    if usage.provider in LOCAL_PROVIDERS:
        return 0.0
    if price is None:
        return None
    return (usage.tokens_in * price.input_per_1m + usage.tokens_out * price.output_per_1m) / 1e6


def parse_prices(text: str) -> list[Price]:
    """The pricing file: {"prices": [...]}, a list of prices, or {"provider/model":
    {"input": x, "output": y}}. Raises InvalidInput naming what is wrong."""
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"pricing is not valid JSON: {exc}") from None
    try:
        if isinstance(data, list):
            return PriceList(prices=data).prices
        if isinstance(data, dict) and "prices" in data:
            return PriceList.model_validate(data).prices
        if isinstance(data, dict):
            prices = []
            for key, value in data.items():
                provider, sep, model = str(key).partition("/")
                if not sep or not isinstance(value, dict):
                    raise InvalidInput(
                        f"pricing entry {key!r}: want provider/model: {{input, output}}"
                    )
                prices.append(
                    Price(
                        provider=provider,
                        model=model,
                        input_per_1m=value.get("input", value.get("input_per_1m")),
                        output_per_1m=value.get("output", value.get("output_per_1m")),
                    )
                )
            return prices
    except ValidationError as exc:
        raise InvalidInput(
            f"pricing: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}"
        ) from None
    raise InvalidInput("pricing must be a JSON object or list")


def usage_of(metrics: Any) -> Usage | None:
    """Provider, model and tokens of a finished job's metrics; None without a provider/model."""
    if not isinstance(metrics, dict) or metrics.get("benchmark"):
        return None
    provider, model = metrics.get("provider"), metrics.get("model")
    if not isinstance(provider, str) or not isinstance(model, str):
        return None

    def count(key: str) -> int:
        value = metrics.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    return Usage(provider, model, count("tokens_in"), count("tokens_out"))
