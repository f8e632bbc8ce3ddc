"""Model names: an untagged name means :latest, and a catalog name is found either way."""

from __future__ import annotations

from core.routing.model_names import catalog_name, with_tag


def test_untagged_names_mean_latest() -> None:
    assert with_tag("llama3") == "llama3:latest" and with_tag("hf.co/a/b:Q4") == "hf.co/a/b:Q4"
    assert catalog_name("llama3", {"llama3:latest", "x"}) == "llama3:latest"
    assert catalog_name("llama3:latest", {"llama3"}) == "llama3"
    assert catalog_name("llama3:8b", {"llama3:latest"}) is None
